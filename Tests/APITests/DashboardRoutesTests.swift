import Foundation
import Jobs
import JSON
import TestSupport
import Testing

/// What the dashboard reads: `GET /jobs` by prefix and state with `recent_slots`,
/// `GET /schedules/upcoming`, `GET /flows/summary`; and the page itself, its headers and its
/// freedom from the token.
@Suite struct DashboardRoutesTests {
    private static func ids(_ reply: APIFixture.Reply) -> [String] {
        reply.json["jobs"]?.arrayValue?.compactMap { $0["job_id"]?.stringValue } ?? []
    }

    private static func post(_ api: APIFixture, _ id: String, _ fields: JSONObject = [:], flows: [JSONValue] = [.null]) throws {
        var body: JSONObject = ["job_id": .string(id), "handler": "FlowScheduling", "when": "2100-01-01 00:00", "kwargs": ["flow_name": .string(id), "flow_arguments": .array(flows)]]
        for (key, value) in fields { body[key] = value }
        let reply = try api.call("POST", "/api/v1/jobs", json: .object(body))
        #expect(reply.status == 201, "\(id): \(reply.text)")
    }

    @Test func jobsAreFoundByIDPrefixExactlyAndByState() async throws {
        try await APIFixture.with { api throws in
            // `_` and `%` would be LIKE wildcards; case and non-ASCII bytes must match exactly.
            for id in ["alpha-1", "alpha-2", "alphabet", "Alpha", "beta", "al_x", "alzx", "al%y", "é-1", "éa", "e-1"] { try Self.post(api, id) }
            #expect(try api.call("PUT", "/api/v1/jobs/alpha-2?state=paused").status == 200)
            let alpha = try api.call("GET", "/api/v1/jobs?prefix=alpha")
            #expect(Self.ids(alpha) == ["alpha-1", "alpha-2", "alphabet"])
            #expect(alpha.json["jobs_count"] == 3)
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=al_")) == ["al_x"])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=al%25")) == ["al%y"])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=%C3%A9")) == ["é-1", "éa"])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=alphabet")) == ["alphabet"])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=alphabets")).isEmpty)
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=alpha&state=paused")) == ["alpha-2"])
            let running = try api.call("GET", "/api/v1/jobs?prefix=alpha&state=running")
            #expect(Self.ids(running) == ["alpha-1", "alphabet"] && running.json["jobs_count"] == 2)
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=alpha&after=alpha-1&limit=1")) == ["alpha-2"])
            #expect(try api.call("GET", "/api/v1/jobs?state=paused").json["jobs_count"] == 1)
            // A prefix of the longest id, and the longest prefix, are found.
            let longest = String(repeating: "\u{10FFFF}", count: 50)
            try Self.post(api, longest)
            let encoded = longest.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=" + encoded)) == [longest])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?prefix=%F4%8F%BF%BF")) == [longest])
        }
    }

    @Test func recentSlotsAreEachJobsLatestRunsNewestFirst() async throws {
        try await APIFixture.with { api throws in
            try Self.post(api, "busy")
            try Self.post(api, "idle")
            for second in 0..<3 {
                #expect(try api.call("POST", "/api/v1/jobs/busy/run").status == 201)
                api.clock.advance(seconds: Int64(second + 1))
            }
            let page = try api.call("GET", "/api/v1/jobs?slots=2")
            let jobs = page.json["jobs"]?.arrayValue ?? []
            let busy = jobs.first { $0["job_id"] == "busy" }?["recent_slots"]?.arrayValue ?? []
            #expect(busy.count == 2)
            #expect(busy.map { $0["cause"] } == ["manual", "manual"])
            #expect(busy.map { $0["status"] } == ["pending", "pending"])
            #expect(busy.map { $0["coalesced_slots"] } == [0, 0])
            let times = busy.compactMap { $0["scheduled_for"]?.stringValue }
            #expect(times.count == 2 && times[0] > times[1], "newest first: \(times)")
            #expect(jobs.first { $0["job_id"] == "idle" }?["recent_slots"] == [])
            #expect(try api.call("GET", "/api/v1/jobs?slots=50").json["jobs"]?[0]?["recent_slots"]?.arrayValue?.count == 3)
            // Without `slots`, the jobs are as before.
            #expect(try api.call("GET", "/api/v1/jobs").json["jobs"]?[0]?["recent_slots"] == nil)
        }
    }

    @Test func failureRecordsAreFoundByTheJobThatFailed() async throws {
        try await APIFixture.with { api throws in
            // Failure records as firings leave them: paused ErrorHandler jobs of origin `failure`.
            try api.pool.withConnection { connection in
                _ = try connection.execute("""
                    INSERT INTO jobs (job_id, handler, kwargs, start_at, state, origin)
                    SELECT 'record-' || g, 'ErrorHandler', jsonb_build_object('error', 'boom', 'failed_job_id', CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END),
                           now(), 'paused', 'failure'
                    FROM generate_series(1, 9) AS g
                    """)
            }
            let a = try api.call("GET", "/api/v1/jobs?job_type=failed&failed_job_id=a")
            #expect(Self.ids(a) == ["record-3", "record-6", "record-9"] && a.json["jobs_count"] == 3)
            #expect(try api.call("GET", "/api/v1/jobs?job_type=failed&failed_job_id=b").json["jobs_count"] == 6)
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?job_type=failed&failed_job_id=c")).isEmpty)
            let mixed = try api.call("GET", "/api/v1/jobs?failed_job_id=a")
            #expect(mixed.status == 400 && mixed.error?.contains("job_type=failed") == true)
        }
    }

    @Test func badListingParametersAreA400NamingThem() async throws {
        try await APIFixture.with { api throws in
            for (query, name) in [
                ("slots=51", "slots"), ("slots=-1", "slots"), ("slots=x", "slots"), ("state=done", "state"), ("state=", "state"),
                ("prefix=", "prefix"), ("prefix=" + String(repeating: "a", count: 201), "prefix"),
                ("job_type=failed&failed_job_id=", "failed_job_id"),
            ] {
                let reply = try api.call("GET", "/api/v1/jobs?" + query)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.error?.contains("'\(name)'") == true, "\(query): \(reply.error ?? reply.text)")
            }
            #expect(try api.call("GET", "/api/v1/jobs?prefix=a%00").status == 400)  // a NUL never reaches the database
            #expect(try api.call("GET", "/api/v1/jobs?slots=0&prefix=" + String(repeating: "a", count: 200)).status == 200)
        }
    }

    @Test func upcomingFiringsAreMergedInTimeOrderWithinTheWindow() async throws {
        try await APIFixture.with { api throws in
            // The fixture's clock: 2026-11-24 12:00 UTC.
            try Self.post(api, "hourly", ["when": "2026-11-24 12:30", "periodically": "1 hour"])
            try Self.post(api, "once", ["when": "2026-11-24 13:00"])
            try Self.post(api, "prague", ["when": "2026-11-24 12:00", "cron": "0 9 * * *", "timezone": "Europe/Prague"])
            try Self.post(api, "twice", ["when": "2026-11-24 12:15", "periodically": "1 hour", "max_runs": 2])
            try Self.post(api, "paused", ["when": "2026-11-24 12:10", "periodically": "1 hour", "state": "paused"])
            try Self.post(api, "later", ["when": "2026-11-26 00:00"])
            let all = try api.call("GET", "/api/v1/schedules/upcoming")
            #expect(all.status == 200)
            #expect(all.json["now"] == "2026-11-24T12:00:00Z")
            #expect(all.json["service_state"] == "running")
            #expect(all.json["truncated"] == false && all.json["capped"] == [])
            let firings = (all.json["firings"]?.arrayValue ?? []).map { ($0["job_id"]?.stringValue ?? "", $0["at"]?.stringValue ?? "") }
            #expect(firings.count == 28)  // 24 hourly, once, prague, twice twice
            #expect(firings.map(\.1) == firings.map(\.1).sorted())
            #expect(firings.prefix(4).map(\.0) == ["twice", "hourly", "once", "twice"])
            #expect(firings.filter { $0.0 == "prague" }.map(\.1) == ["2026-11-25T08:00:00Z"])
            #expect(firings.last?.1 == "2026-11-25T11:30:00Z")
            #expect(!firings.contains { $0.0 == "paused" || $0.0 == "later" })

            let first = try api.call("GET", "/api/v1/schedules/upcoming?limit=3")
            #expect(first.json["firings"]?.arrayValue?.compactMap { $0["job_id"]?.stringValue } == ["twice", "hourly", "once"])
            #expect(first.json["truncated"] == true)
            let capped = try api.call("GET", "/api/v1/schedules/upcoming?per_job=2")
            #expect(capped.json["firings"]?.arrayValue?.count == 6)  // hourly capped at 2, once, prague, twice
            #expect(capped.json["capped"] == ["hourly"])
            let week = try api.call("GET", "/api/v1/schedules/upcoming?hours=168&limit=1000")
            #expect(week.json["firings"]?.arrayValue?.contains { $0["job_id"] == "later" } == true)
            #expect(try api.call("PUT", "/api/v1/service/state?state=paused").status == 200)
            #expect(try api.call("GET", "/api/v1/schedules/upcoming").json["service_state"] == "paused")
            for (query, name) in [("hours=0", "hours"), ("hours=169", "hours"), ("limit=0", "limit"), ("limit=1001", "limit"), ("per_job=0", "per_job")] {
                let reply = try api.call("GET", "/api/v1/schedules/upcoming?" + query)
                #expect(reply.status == 400 && reply.error?.contains("'\(name)'") == true, "\(query): \(reply.text)")
            }
        }
    }

    @Test func theFlowSummaryCountsStatesRetriesLeasesAndHolders() async throws {
        try await APIFixture.with { api throws in
            try Self.post(api, "work", ["max_attempts": 3, "retry_delay": "1 hour"], flows: [1, 2, 3, 4])
            #expect(try api.call("POST", "/api/v1/jobs/work/run").status == 201)
            let empty = try api.call("GET", "/api/v1/flows/summary")
            #expect(empty.json["oldest_claimable_since"] == "2026-11-24T12:00:00Z")
            api.clock.advance(seconds: 90)
            let claimed = try api.call("POST", "/api/v1/flows/claim", json: ["worker": "w1", "limit": 3, "lease": "30s"]).json["flows"]?.arrayValue ?? []
            #expect(claimed.count == 3)
            _ = try api.call("POST", "/api/v1/flows/claim", json: ["worker": "w2", "limit": 1, "lease": "10m"])
            let failed = claimed[0]
            let fail = try api.call("POST", "/api/v1/flows/\(failed["id"]!.intValue!)/fail", json: ["lease_token": failed["lease_token"]!, "error": "try later"])
            #expect(fail.status == 200, "\(fail.text)")
            let summary = try api.call("GET", "/api/v1/flows/summary")
            #expect(summary.status == 200)
            #expect(summary.json["counts"] == [["state": "claimed", "flow_name": "work", "count": 3], ["state": "unclaimed", "flow_name": "work", "count": 1]])
            #expect(summary.json["counts_truncated"] == false)
            #expect(summary.json["waiting_for_retry"] == 1)
            #expect(summary.json["retrying"] == 1)
            #expect(summary.json["oldest_claimable_since"] == .null && summary.json["oldest_claimable_age_seconds"] == .null)
            #expect(summary.json["expired_leases"] == 0)
            #expect(summary.json["holders_count"] == 2)
            #expect(summary.json["holders"]?.arrayValue?.map { $0["worker"] } == ["w1", "w2"])
            #expect(summary.json["holders"]?[0]?["flows"] == 2)
            // Past every lease (three flows expired) and past the retry delay (1 hour ±10 %): one is claimable.
            api.clock.advance(seconds: 4500)
            let later = try api.call("GET", "/api/v1/flows/summary")
            #expect(later.json["expired_leases"] == 3)
            #expect(later.json["waiting_for_retry"] == 0)
            #expect(later.json["oldest_claimable_age_seconds"]?.doubleValue.map { $0 > 0 } == true)
            #expect(try api.call("GET", "/api/v1/flows/summary?x=1").status == 400)
        }
    }

    @Test func theSummaryCountsAtMostAThousandStateAndNamePairs() async throws {
        try await APIFixture.with { api throws in
            try Self.post(api, "many")
            #expect(try api.call("POST", "/api/v1/jobs/many/run").status == 201)
            // 999 more flow names beside "many": 1,000 pairs, all listed; one more is one too many.
            func addNames(_ range: ClosedRange<Int>) throws {
                try api.pool.withConnection { connection in
                    _ = try connection.execute("""
                        INSERT INTO flows (flow_name, arguments, task_names, run_subsequent, job_id, scheduled_for, position,
                                           priority, max_attempts, retry_delay_us, available_at)
                        SELECT 'name-' || g, f.arguments, f.task_names, f.run_subsequent, f.job_id, f.scheduled_for, f.position + g,
                               f.priority, f.max_attempts, f.retry_delay_us, f.available_at
                        FROM flows f, generate_series(\(Int64(range.lowerBound)), \(Int64(range.upperBound))) AS g WHERE f.flow_name = 'many'
                        """)
                }
            }
            try addNames(1...999)
            let full = try api.call("GET", "/api/v1/flows/summary")
            #expect(full.json["counts"]?.arrayValue?.count == 1000 && full.json["counts_truncated"] == false)
            try addNames(1000...1000)
            let over = try api.call("GET", "/api/v1/flows/summary")
            #expect(over.json["counts"]?.arrayValue?.count == 1000 && over.json["counts_truncated"] == true)
        }
    }

    @Test func theDashboardLoadsWithoutATokenUnderAStrictPolicy() async throws {
        try await APIFixture.with(tokens: ["dashboard-test-token"]) { api throws in
            for (path, type) in [("dashboard", "text/html"), ("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")] {
                let reply = try api.call("GET", "/api/v1/ui/" + path)
                #expect(reply.status == 200, "\(path)")
                #expect(reply.header("Content-Type")?.hasPrefix(type) == true, "\(path)")
                #expect(reply.header("Content-Security-Policy")?.contains("script-src 'self';") == true)
                #expect(reply.header("Content-Security-Policy")?.contains("connect-src 'self'") == true)
                #expect(reply.header("X-Frame-Options") == "DENY" && reply.header("X-Content-Type-Options") == "nosniff")
            }
            // The page only names its own files: no inline script or style, nothing from elsewhere.
            let html = try api.call("GET", "/api/v1/ui/dashboard").text
            #expect(html.contains("<script src=\"dashboard.js\"></script>"))
            #expect(!html.contains("<style") && !html.contains(" style=") && !html.contains("<script>"))
            let references = html.matches(of: /(?:src|href)="([^"]*)"/).map { String($0.output.1) }
            #expect(references.allSatisfy { $0.hasPrefix("dashboard.") || $0.hasPrefix("#") || $0 == "data:," }, "\(references)")
            let script = try api.call("GET", "/api/v1/ui/dashboard.js").text
            #expect(script.contains("sessionStorage") && script.contains("'auth-token'") && !script.contains("innerHTML"))
            // Its data still needs the token.
            #expect(try api.call("GET", "/api/v1/jobs").status == 401)
            #expect(try api.call("GET", "/api/v1/ui/dashboard?token=x").status == 400)
        }
    }
}
