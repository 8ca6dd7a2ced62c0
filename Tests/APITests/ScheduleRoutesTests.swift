import Chronology
import Foundation
import JSON
import Jobs
import Scheduling
import Testing

@Suite(.serialized) struct ScheduleRoutesTests {
    @Test func previewOfDesignsExampleAcrossPraguesSpringForward() async throws {
        try await APIFixture.with { api throws in
            let reply = try api.call(
                "POST", "/api/v1/schedules/preview",
                json: ["cron": "30 2 * * *", "timezone": "Europe/Prague", "after": "2026-03-28T00:00:00Z", "count": 3])
            #expect(reply.status == 200)
            // 02:30 does not exist on 29 March: Debian's cron fires a fixed time at the first instant after the gap (03:00 CEST).
            #expect(reply.json["times"] == ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
            #expect(reply.json["description"] == "At 02:30")
            #expect(reply.json["timezone"] == "Europe/Prague")
            // Strictly after `after`: a slot at `after` itself is not shown.
            let from = try api.call("POST", "/api/v1/schedules/preview", json: ["cron": "30 2 * * *", "timezone": "Europe/Prague", "after": "2026-03-28T01:30:00Z", "count": 1])
            #expect(from.json["times"] == ["2026-03-29T01:00:00Z"])
        }
    }

    @Test func previewOfAnIntervalAndOfAOneShotFromNow() async throws {
        try await APIFixture.with { api throws in
            // The fixture's clock reads 2026-11-24 12:00 UTC.
            let interval = try api.call("POST", "/api/v1/schedules/preview", json: ["periodically": "1 hour", "when": "2026-11-24T10:00:00Z", "count": 2])
            #expect(interval.json["times"] == ["2026-11-24T13:00:00Z", "2026-11-24T14:00:00Z"])
            #expect(interval.json["description"] == "Every hour")
            #expect(interval.json["timezone"] == "UTC")
            // Without `when`, an interval starts one period after now, as a new job does.
            let fresh = try api.call("POST", "/api/v1/schedules/preview", json: ["periodically": 1800, "count": 1])
            #expect(fresh.json["times"] == ["2026-11-24T12:30:00Z"])
            let once = try api.call("POST", "/api/v1/schedules/preview", json: ["when": "2026-11-25T08:00:00Z"])
            #expect(once.json["times"] == ["2026-11-25T08:00:00Z"])
            #expect(try api.call("POST", "/api/v1/schedules/preview", json: ["when": "2026-11-20T08:00:00Z"]).json["times"] == [])
        }
    }

    @Test func previewCountAtItsLimitsAndAtTheEndOfTime() async throws {
        try await APIFixture.with { api throws in
            let thousand = try api.call(
                "POST", "/api/v1/schedules/preview", json: ["cron": "0 9 * * MON#5", "timezone": "Europe/Prague", "after": "2026-01-01T00:00:00Z", "count": 1000])
            #expect(thousand.status == 200)
            let times = thousand.json["times"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(times.count == 1000)
            #expect(times == times.sorted() && Set(times).count == 1000)
            #expect(times.first == "2026-03-30T07:00:00Z")
            for count: JSONValue in [0, 1001, -1, "3", 2.5] {
                let reply = try api.call("POST", "/api/v1/schedules/preview", json: ["cron": "@daily", "count": count])
                #expect(reply.status == 400 && reply.error?.contains("'count'") == true, "count \(count)")
            }
            // Nothing past 9999-12-31: the preview stops there rather than writing a year 10000.
            let last = try api.call("POST", "/api/v1/schedules/preview", json: ["cron": "0 0 1 1 *", "after": "9999-06-01T00:00:00Z", "count": 5])
            #expect(last.status == 200 && last.json["times"] == [])
            let lastMinute = try api.call("POST", "/api/v1/schedules/preview", json: ["cron": "59 23 31 12 *", "after": "9999-06-01T00:00:00Z", "count": 5])
            #expect(lastMinute.json["times"] == ["9999-12-31T23:59:00Z"])
        }
    }

    @Test func badPreviewFieldsAre400NamingTheField() async throws {
        try await APIFixture.with { api throws in
            let cases: [(JSONValue, String)] = [
                (["cron": "0 0 32 * *"], "'cron': field 3 (day of month): 32 is out of 1-31"),
                (["cron": "0 0 30 2 *"], "'cron'"),
                (["cron": "0 0 * *"], "'cron'"),
                (["cron": 5], "'cron'"),
                (["cron": .string(String(repeating: "1", count: 1001))], "'cron'"),
                (["cron": "@daily", "timezone": "Mars/Olympus"], "'timezone'"),
                (["cron": "@daily", "timezone": "../../etc/passwd"], "'timezone'"),
                (["timezone": "Europe/Prague"], "'timezone'"),
                (["cron": "@daily", "periodically": "1 day"], "'periodically' or 'cron'"),
                (["periodically": "0 seconds"], "'periodically'"),
                (["periodically": "soon"], "'periodically'"),
                (["cron": "@daily", "after": "yesterday"], "'after'"),
                (["cron": "@daily", "after": "10000-01-01T00:00:00Z"], "'after'"),
                (["cron": "@daily", "when": ["2026"]], "'when'"),
                (["cron": "@daily", "colour": "red"], "'colour'"),
                ([:], "give a 'cron'"),
            ]
            for (body, message) in cases {
                let reply = try api.call("POST", "/api/v1/schedules/preview", json: body)
                #expect(reply.status == 400, "\(body.serialized())")
                #expect(reply.error?.contains(message) == true, "\(body.serialized()): \(reply.error ?? "no error")")
            }
            #expect(try api.call("POST", "/api/v1/schedules/preview", body: "[1]").status == 400)
            #expect(try api.call("POST", "/api/v1/schedules/preview", body: "{").status == 400)
        }
    }

    @Test func aJobsScheduleSaysWhyItWouldNotFire() async throws {
        try await APIFixture.with { api throws in
            let body: JSONValue = [
                "job_id": "nightly", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "cron": "30 2 * * MON-FRI", "timezone": "Europe/Prague",
            ]
            #expect(try api.call("POST", "/api/v1/jobs", json: body).status == 201)
            let running = try api.call("GET", "/api/v1/jobs/nightly/schedule?count=3")
            #expect(running.status == 200)
            // Tuesday 2026-11-24, 13:00 in Prague: next are Wednesday, Thursday and Friday at 02:30 CET.
            #expect(running.json["times"] == ["2026-11-25T01:30:00Z", "2026-11-26T01:30:00Z", "2026-11-27T01:30:00Z"])
            #expect(running.json["next_run_time"] == "2026-11-25T01:30:00Z")
            #expect(running.json["description"] == "At 02:30, Monday through Friday")
            #expect(running.json["timezone"] == "Europe/Prague")
            #expect(running.json["blocked_by"] == [])
            #expect(try api.call("GET", "/api/v1/jobs/nightly").json["job"]?["description"] == "At 02:30, Monday through Friday")

            #expect(try api.call("PUT", "/api/v1/jobs/nightly?state=paused").status == 200)
            #expect(try api.call("PUT", "/api/v1/service/state?state=paused").status == 200)
            let blocked = try api.call("GET", "/api/v1/jobs/nightly/schedule")
            #expect(blocked.json["blocked_by"]?.arrayValue?.compactMap { $0["reason"]?.stringValue } == ["job_paused", "service_paused"])
            #expect(blocked.json["times"]?.arrayValue?.count == 10)
            #expect(blocked.json["next_run_time"] == .null)

            #expect(try api.call("PUT", "/api/v1/service/state?state=running").status == 200)
            let once: JSONValue = ["job_id": "once", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "when": "2026-11-24T12:00:00Z"]
            #expect(try api.call("POST", "/api/v1/jobs", json: once).status == 201)
            #expect(try JobFirer(pool: api.pool, clock: .test { api.clock.now }).fireDue().succeeded == 1)
            let finished = try api.call("GET", "/api/v1/jobs/once/schedule")
            #expect(finished.json["blocked_by"]?.arrayValue?.compactMap { $0["reason"]?.stringValue } == ["finished"])
            #expect(finished.json["times"] == [])

            #expect(try api.call("GET", "/api/v1/jobs/nobody/schedule").status == 404)
            for count in ["0", "1001", "x", ""] {
                #expect(try api.call("GET", "/api/v1/jobs/nightly/schedule?count=\(count)").status == 400, "count=\(count)")
            }
            #expect(try api.call("GET", "/api/v1/jobs/nightly/schedule?colour=red").status == 400)
        }
    }

    /// Kairos's cron against an implementation nobody here wrote, through the route a client
    /// uses: `scripts/cron-reference.py` generates the cases with PyPI's cronsim (Debian cron's
    /// DST rules) in the same test run, and the test command points `KAIROS_CRON_REFERENCE` at them.
    struct ReferenceCase: Decodable {
        var expression: String
        var zone: String
        var after: String
        var times: [String]
    }

    static let referencePath = ProcessInfo.processInfo.environment["KAIROS_CRON_REFERENCE"]

    @Test(.enabled(if: referencePath != nil, "the test command generates the reference cases; set KAIROS_CRON_REFERENCE to run alone"))
    func previewMatchesCronsimOnEveryReferenceCase() async throws {
        let data = try #require(FileManager.default.contents(atPath: Self.referencePath!), "no reference cases at \(Self.referencePath!)")
        let cases = try JSONDecoder().decode([ReferenceCase].self, from: data)
        #expect(cases.count >= 300, "the reference run produced only \(cases.count) cases")
        try await APIFixture.with { api throws in
            var mismatches: [String] = []
            for item in cases {
                let reply = try api.call(
                    "POST", "/api/v1/schedules/preview",
                    json: ["cron": .string(item.expression), "timezone": .string(item.zone), "after": .string(item.after), "count": .int(Int64(item.times.count))])
                let got = reply.json["times"]?.arrayValue?.compactMap(\.stringValue) ?? ["status \(reply.status): \(reply.error ?? "")"]
                let expected = try item.times.map { try LooseDate.parse($0, now: Timestamp(microsecondsSinceEpoch: 0)).iso8601 }
                if got != expected { mismatches.append("\(item.expression) in \(item.zone) after \(item.after): \(got) != \(expected)") }
            }
            #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ from cronsim:\n\(mismatches.prefix(10).joined(separator: "\n"))")
        }
    }
}
