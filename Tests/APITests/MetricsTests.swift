@testable import API
import Chronology
import Foundation
import JSON
import Jobs
import Locking
import TestSupport
import Testing

/// `GET /metrics` in Prometheus's text format, over a real socket.
@Suite struct MetricsTests {
    @Test func requestsAreCountedByRouteTemplateWithALatencyHistogram() async throws {
        let metrics = ServiceMetrics()
        try await APIFixture.with(tokens: ["t"], metrics: metrics) { api throws in
            let auth = [("auth-token", "t")]
            _ = try api.call("GET", "/api/v1/jobs/nightly", headers: auth)
            _ = try api.call("GET", "/api/v1/jobs/other", headers: auth)
            _ = try api.call("GET", "/api/v1/jobs")
            _ = try api.call("GET", "/api/v1/nowhere", headers: auth)
            // Made-up methods share one series: no client can grow the metrics without bound.
            _ = try api.call("BREW", "/api/v1/jobs")
            _ = try api.call("FROB", "/api/v1/jobs")
            let scrape = try api.call("GET", "/metrics", headers: auth)
            #expect(scrape.status == 200)
            #expect(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let text = scrape.text
            // Job ids never become labels: both reads count under the template.
            #expect(text.contains(#"kairos_http_requests_total{route="/api/v1/jobs/{job_id}",method="GET",status="404"} 2"#), "\(text)")
            #expect(text.contains(#"kairos_http_requests_total{route="/api/v1/jobs",method="GET",status="401"} 1"#))
            #expect(text.contains(#"kairos_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
            #expect(!text.contains("BREW") && !text.contains("FROB"))
            #expect(text.contains(#"method="other""#))
            #expect(text.contains(#"kairos_http_request_duration_seconds_bucket{route="/api/v1/jobs/{job_id}",method="GET",le="+Inf"} 2"#))
            #expect(text.contains(#"kairos_http_request_duration_seconds_count{route="/api/v1/jobs/{job_id}",method="GET"} 2"#))
            #expect(text.contains("# TYPE kairos_http_request_duration_seconds histogram"))
            #expect(text.contains(#"kairos_db_pool_connections{state="in_use"} "#))
            #expect(text.contains("kairos_db_pool_waiting 0"))
            #expect(text.contains("process_start_time_seconds \(Int64(metrics.processStartTime))") || text.contains("process_start_time_seconds \(metrics.processStartTime)"))
            // The scrape itself needs the token.
            #expect(try api.call("GET", "/metrics").status == 401)
        }
    }

    @Test func firingsAndFlowsAreReported() async throws {
        let metrics = ServiceMetrics()
        try await APIFixture.with(metrics: metrics) { api throws in
            // A job due now, fired by a firer as the scheduler would, its batch recorded.
            let job = #"{"job_id": "soon", "handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_arguments": [1, 2]}, "when": "2026-11-24T12:00:30Z"}"#
            #expect(try api.call("POST", "/api/v1/jobs", body: job).status == 201)
            let firer = JobFirer(pool: api.pool, clock: .test { APIFixture.now + 32_000_000 })
            metrics.recordBatch(try firer.fireDue())
            let text = try api.call("GET", "/metrics").text
            #expect(text.contains("kairos_jobs_fired_total 1"))
            #expect(text.contains("kairos_jobs_missed_total 0"))
            #expect(text.contains("kairos_jobs_failed_total 0"))
            #expect(text.contains("kairos_jobs_skipped_total 0"))
            #expect(text.contains("kairos_flows_posted_total 2"))
            #expect(text.contains("kairos_scheduler_lag_seconds 2\n"))
            #expect(text.contains(#"kairos_flows{state="unclaimed",flow_name="f"} 2"#), "\(text)")
        }
    }

    /// The flows are counted at most once per five seconds however often `/metrics` is scraped,
    /// and a failed count is not tried again sooner.
    @Test func flowCountsAreReadAtMostOncePerMaximumAge() {
        let cache = FlowCountsCache(maximumAge: .seconds(5))
        let start = ContinuousClock.now
        let counted = Locked(0)
        func count(_ n: Int) -> () throws -> FlowCountsCache.Counts {
            { counted.withLock { $0 += 1 }; return [("unclaimed", "f", n)] }
        }
        #expect(cache.counts(now: start, count(1))?.first?.count == 1)
        #expect(cache.counts(now: start + .milliseconds(4999), count(2))?.first?.count == 1)
        #expect(counted.withLock { $0 } == 1)
        #expect(cache.counts(now: start + .seconds(5), count(3))?.first?.count == 3)
        // A failed count is not tried again for as long: the scrapes behind it answer at once.
        struct Down: Error {}
        #expect(cache.counts(now: start + .seconds(11)) { throw Down() } == nil)
        #expect(cache.counts(now: start + .seconds(12), count(4)) == nil)
        #expect(cache.counts(now: start + .seconds(16), count(5))?.first?.count == 5)
        #expect(counted.withLock { $0 } == 3)
    }

    /// Two scrapes in a row: the second answers the first's count without asking the database.
    @Test func aSecondScrapeSoonAfterSharesTheFirstsFlowCounts() async throws {
        try await APIFixture.with { api throws in
            _ = try FlowBoardRoutesTests.post(api, count: 2)
            #expect(try api.call("GET", "/metrics").text.contains(#"kairos_flows{state="unclaimed",flow_name="resize"} 2"#))
            try api.pool.withConnection { _ = try $0.execute("UPDATE flows SET flow_name = 'encode'") }
            let text = try api.call("GET", "/metrics").text
            #expect(text.contains(#"kairos_flows{state="unclaimed",flow_name="resize"} 2"#), "\(text)")
            #expect(!text.contains(#"flow_name="encode""#))
        }
    }

    @Test func theBoardsClaimsExpiriesRetriesAndFailuresAreCounted() async throws {
        let metrics = ServiceMetrics()
        try await APIFixture.with(metrics: metrics) { api throws in
            let ids = try FlowBoardRoutesTests.post(api, count: 3)
            try api.pool.withConnection { _ = try $0.execute("UPDATE flows SET max_attempts = 2 WHERE id = \(ids[0])") }
            let claimed = try #require(try api.call("POST", "/api/v1/flows/claim", json: ["worker": "w", "limit": 3, "lease": "30s"]).json["flows"]?.arrayValue)
            func token(_ index: Int) -> JSONValue { claimed[index]["lease_token"] ?? .null }
            #expect(try api.call("POST", "/api/v1/flows/\(ids[0])/fail", json: ["lease_token": token(0), "error": "busy"]).json["state"] == "unclaimed")
            let final: JSONValue = ["lease_token": token(1), "error": "broken", "retry": false]
            #expect(try api.call("POST", "/api/v1/flows/\(ids[1])/fail", json: final).json["state"] == "failed")
            _ = try api.call("POST", "/api/v1/flows/\(ids[1])/fail", json: final)  // a repeat counts nothing
            // The third flow's worker is lost: 31 s on, a claim finds its lease run out.
            api.clock.now = api.clock.now + 31_000_000
            _ = try api.call("POST", "/api/v1/flows/claim", json: ["worker": "w2"])
            let text = try api.call("GET", "/metrics").text
            #expect(text.contains("kairos_flows_claimed_total 4\n"), "\(text)")
            #expect(text.contains("kairos_flow_leases_expired_total 1\n"))
            #expect(text.contains("kairos_flow_retries_total 1\n"))
            #expect(text.contains("kairos_flows_failed_total 1\n"))
            #expect(text.contains(#"kairos_flows{state="failed",flow_name="resize"} 1"#))
        }
    }

    @Test func aFiringOfATimeThatAlreadyFiredCountsAsSkipped() async throws {
        let metrics = ServiceMetrics()
        try await APIFixture.with(metrics: metrics) { api throws in
            let job = #"{"job_id": "hourly", "handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_arguments": [1]}, "when": "2026-11-24T13:00:00Z", "periodically": "1 hour"}"#
            #expect(try api.call("POST", "/api/v1/jobs", body: job).status == 201)
            let slot = APIFixture.now + 3_600_000_000
            let firer = JobFirer(pool: api.pool, clock: .test { slot })
            _ = try firer.runNow("hourly")
            metrics.recordBatch(try firer.fireDue())
            let text = try api.call("GET", "/metrics").text
            #expect(text.contains("kairos_jobs_skipped_total 1"), "\(text)")
            #expect(text.contains("kairos_jobs_fired_total 0"))
            #expect(text.contains("kairos_flows_posted_total 0"))
        }
    }

    @Test func everyLineIsAHeaderOrASample() async throws {
        try await APIFixture.with { api throws in
            _ = try api.call("GET", "/api/v1/liveness")
            let lines = try api.call("GET", "/metrics").text.split(separator: "\n")
            #expect(lines.count > 10)
            for line in lines {
                let isHeader = line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ")
                let parts = line.split(separator: " ")
                let isSample = !line.hasPrefix("#") && parts.count == 2 && Double(parts[1].replacingOccurrences(of: "+Inf", with: "inf")) != nil
                #expect(isHeader || isSample, "\(line)")
            }
        }
    }

    @Test func logLinesDroppedByAStalledSinkAreCounted() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        // Nobody reads the pipe: a 1 KiB buffer holds ten of these lines at most.
        let sink = LogSink(fileDescriptor: fds[1], capacity: 1024)
        for _ in 0..<2000 { sink.write(Array(repeating: UInt8(ascii: "x"), count: 99)) }
        let dropped = sink.droppedLines
        #expect(dropped > 0)
        try await APIFixture.with(metrics: ServiceMetrics(logSink: sink)) { api throws in
            let text = try api.call("GET", "/metrics").text
            #expect(text.contains("\nkairos_log_lines_dropped_total \(dropped)\n"), "\(text.prefix(3000))")
        }
    }

    /// A 405 or an OPTIONS on a known path counts under that path's route template.
    @Test func refusedMethodsCountUnderTheirRoute() async throws {
        let metrics = ServiceMetrics()
        try await APIFixture.with(metrics: metrics) { api throws in
            #expect(try api.call("PUT", "/api/v1/jobs/x/runs").status == 405)
            #expect(try api.call("OPTIONS", "/api/v1/jobs/x/runs").status == 204)
            let text = try api.call("GET", "/metrics").text
            #expect(text.contains(#"kairos_http_requests_total{route="/api/v1/jobs/{job_id}/runs",method="PUT",status="405"} 1"#), "\(text)")
            #expect(text.contains(#"kairos_http_requests_total{route="/api/v1/jobs/{job_id}/runs",method="OPTIONS",status="204"} 1"#))
            #expect(!text.contains(#"route="unmatched""#))
        }
    }

    /// What an outage alert needs: whether the database answers, how long the oldest due job has
    /// waited (it grows while nothing fires), failed batches and the last good one.
    @Test func theDatabaseAndAStuckSchedulerShowInTheMetrics() async throws {
        let metrics = ServiceMetrics()
        try await APIFixture.with(metrics: metrics) { api throws in
            var text = try api.call("GET", "/metrics").text
            #expect(text.contains("kairos_db_up 1\n"))
            #expect(text.contains("kairos_scheduler_overdue_seconds 0\n"), "\(text)")
            #expect(text.contains("kairos_scheduler_batch_failures_total 0\n"))
            #expect(!text.contains("\nkairos_scheduler_last_success_timestamp_seconds "))
            // Due now, and nobody fires it: the wait grows with the clock.
            #expect(try api.call("POST", "/api/v1/jobs", json: ["job_id": "due", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"]]).status == 201)
            api.clock.now = APIFixture.now + 90_000_000
            text = try api.call("GET", "/metrics").text
            #expect(text.contains("kairos_scheduler_overdue_seconds 90\n"), "\(text)")
            // A paused service owes nothing.
            #expect(try api.call("PUT", "/api/v1/service/state?state=paused").status == 200)
            #expect(try api.call("GET", "/metrics").text.contains("kairos_scheduler_overdue_seconds 0\n"))
            metrics.recordBatchFailure()
            metrics.recordBatch(try JobFirer(pool: api.pool, clock: .test { APIFixture.now }).fireDue(), at: Date(timeIntervalSince1970: 1_800_000_000))
            text = try api.call("GET", "/metrics").text
            #expect(text.contains("kairos_scheduler_batch_failures_total 1\n"))
            #expect(text.contains("kairos_scheduler_last_success_timestamp_seconds 1800000000\n"))
        }
    }
}
