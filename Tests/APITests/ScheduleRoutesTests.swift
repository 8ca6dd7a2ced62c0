import Chronology
import Foundation
import TestSupport
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

@Suite(.serialized) struct BackfillRoutesTests {
    static func hourly(_ id: String, overlap: String = "allow_all") -> JSONValue {
        ["job_id": .string(id), "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "when": "2026-11-24T00:00:00Z", "periodically": "1 hour",
         "overlap": .string(overlap)]
    }

    static func outcomes(_ reply: APIFixture.Reply) -> [String?] {
        reply.json["slots"]?.arrayValue?.map { $0["outcome"]?.stringValue } ?? []
    }

    @Test func aDryRunListsTheSlotsAndARealOneFiresThoseWithoutARunOnce() async throws {
        try await APIFixture.with { api throws in
            #expect(try api.call("POST", "/api/v1/jobs", json: Self.hourly("hourly")).status == 201)
            // The fixture's clock reads 12:00: the 12:00 slot fires as scheduled.
            #expect(try JobFirer(pool: api.pool, clock: .test { api.clock.now }).fireDue().succeeded == 1)
            api.clock.advance(seconds: 1800)
            let range: JSONValue = ["from": "2026-11-24T10:00:00Z", "to": "2026-11-24T12:00:00.000001Z", "dry_run": true]
            let dry = try api.call("POST", "/api/v1/jobs/hourly/backfill", json: range)
            #expect(dry.status == 200)
            #expect(dry.json["slots"]?.arrayValue?.compactMap { $0["scheduled_for"]?.stringValue } == ["2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z", "2026-11-24T12:00:00Z"])
            #expect(dry.json["slots"]?.arrayValue?.map { $0["has_run"] } == [false, false, true])
            #expect(dry.json["slots"]?[2]?["status"] == "pending")
            #expect(dry.json["fired"] == 0)
            #expect(try api.call("GET", "/api/v1/jobs/hourly/runs").json["runs_count"] == 1)

            let real = try api.call("POST", "/api/v1/jobs/hourly/backfill", json: ["from": "2026-11-24T10:00:00Z", "to": "2026-11-24T12:00:00.000001Z"])
            #expect(real.status == 200)
            #expect(Self.outcomes(real) == ["succeeded", "succeeded", nil])
            #expect(real.json["fired"] == 2)
            let runs = try api.call("GET", "/api/v1/jobs/hourly/runs").json["runs"]?.arrayValue ?? []
            #expect(runs.map { $0["cause"] } == ["schedule", "backfill", "backfill"])
            #expect(runs.map { $0["scheduled_for"] } == ["2026-11-24T12:00:00Z", "2026-11-24T11:00:00Z", "2026-11-24T10:00:00Z"])
            // Each backfilled slot posted its own flow, for its own time.
            let flows = try api.call("GET", "/api/v1/flows?job_id=hourly").json["flows"]?.arrayValue?.compactMap { $0["scheduled_for"]?.stringValue }
            #expect(flows?.sorted() == ["2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z", "2026-11-24T12:00:00Z"])
            // The same call again, and twice at once: no slot fires a second time.
            let again = try api.call("POST", "/api/v1/jobs/hourly/backfill", json: ["from": "2026-11-24T10:00:00Z", "to": "2026-11-24T12:00:00Z"])
            #expect(again.json["fired"] == 0 && again.json["slots"]?.arrayValue?.map { $0["has_run"] } == [true, true])
            let twice = LockedBox<[Int64]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                let reply = try? api.call("POST", "/api/v1/jobs/hourly/backfill", json: ["from": "2026-11-24T06:00:00Z", "to": "2026-11-24T10:00:00Z"])
                twice.update { $0.append(reply?.json["fired"]?.intValue ?? -1) }
            }
            #expect(twice.get().sorted() == [0, 4])
            #expect(try api.call("GET", "/api/v1/jobs/hourly/runs").json["runs_count"] == 7)
            // The schedule itself did not move.
            #expect(try api.call("GET", "/api/v1/jobs/hourly").json["job"]?["next_run_time"] == "2026-11-24T13:00:00Z")
        }
    }

    @Test func aCronBackfillFollowsTheWallClockAcrossADSTChange() async throws {
        try await APIFixture.with { api throws in
            let body: JSONValue = ["job_id": "prague", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "cron": "30 2 * * *", "timezone": "Europe/Prague", "when": "2026-01-01T00:00:00Z"]
            #expect(try api.call("POST", "/api/v1/jobs", json: body).status == 201)
            let dry = try api.call("POST", "/api/v1/jobs/prague/backfill", json: ["from": "2026-03-28T00:00:00Z", "to": "2026-03-31T00:00:00Z", "dry_run": true])
            #expect(dry.json["slots"]?.arrayValue?.compactMap { $0["scheduled_for"]?.stringValue } == ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        }
    }

    @Test func atMostTenThousandSlotsACall() async throws {
        try await APIFixture.with { api throws in
            let body: JSONValue = ["job_id": "minutely", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "when": "2026-01-01T00:00:00Z", "periodically": "1 minute"]
            #expect(try api.call("POST", "/api/v1/jobs", json: body).status == 201)
            // Now is 12:00; 10,000 minutes before is 2026-11-17T09:20.
            let full = try api.call("POST", "/api/v1/jobs/minutely/backfill", json: ["from": "2026-11-17T13:20:00Z", "to": "2026-11-24T12:00:00Z", "dry_run": true])
            #expect(full.status == 200 && full.json["slots"]?.arrayValue?.count == 10_000)
            let over = try api.call("POST", "/api/v1/jobs/minutely/backfill", json: ["from": "2026-11-17T13:19:00Z", "to": "2026-11-24T12:00:00Z", "dry_run": true])
            #expect(over.status == 400 && over.error?.contains("10001 slots") == true, "\(over.error ?? "")")
        }
    }

    @Test func overlapPoliciesApplyToTheBackfilledSlots() async throws {
        try await APIFixture.with { api throws in
            let range: JSONValue = ["from": "2026-11-24T08:00:00Z", "to": "2026-11-24T11:00:00Z"]
            for (policy, expected) in [("skip", ["succeeded", "skipped", "skipped"]), ("buffer_one", ["succeeded", "buffered", "skipped"]),
                                       ("cancel_other", ["skipped", "skipped", "succeeded"]), ("allow_all", ["succeeded", "succeeded", "succeeded"])] {
                #expect(try api.call("POST", "/api/v1/jobs", json: Self.hourly(policy, overlap: policy)).status == 201)
                let reply = try api.call("POST", "/api/v1/jobs/\(policy)/backfill", json: range)
                #expect(Self.outcomes(reply) == expected, "\(policy)")
            }
        }
    }

    @Test func badBackfillsAre4xxNamingTheField() async throws {
        try await APIFixture.with { api throws in
            #expect(try api.call("POST", "/api/v1/jobs", json: Self.hourly("hourly")).status == 201)
            let cases: [(JSONValue, String)] = [
                (["to": "2026-11-24T10:00:00Z"], "'from' is required"),
                (["from": "2026-11-24T10:00:00Z"], "'to' is required"),
                (["from": "2026-11-24T10:00:00Z", "to": "2026-11-24T10:00:00Z"], "'to'"),
                (["from": "2026-11-24T10:00:00Z", "to": "2026-11-24T12:00:01Z"], "after now"),
                (["from": "last week", "to": "2026-11-24T10:00:00Z"], "'from'"),
                (["from": "2026-11-24T09:00:00Z", "to": "2026-11-24T10:00:00Z", "dry_run": "yes"], "'dry_run'"),
                (["from": "2026-11-24T09:00:00Z", "to": "2026-11-24T10:00:00Z", "slots": 3], "'slots'"),
            ]
            for (body, message) in cases {
                let reply = try api.call("POST", "/api/v1/jobs/hourly/backfill", json: body)
                #expect(reply.status == 400 && reply.error?.contains(message) == true, "\(body.serialized()): \(reply.status) \(reply.error ?? "")")
            }
            #expect(try api.call("POST", "/api/v1/jobs/nobody/backfill", json: ["from": "2026-11-24T09:00:00Z", "to": "2026-11-24T10:00:00Z"]).status == 404)
            #expect(try api.call("GET", "/api/v1/jobs/hourly/runs").json["runs_count"] == 0)
        }
    }
}

/// `start_date`, `end_date`, `max_runs` and `jitter` on jobs.
@Suite(.serialized) struct ScheduleControlsRoutesTests {
    static func hourly(_ id: String, _ extra: JSONObject) -> JSONValue {
        var body: JSONObject = ["job_id": .string(id), "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "when": "2026-11-24T00:00:00Z", "periodically": "1 hour"]
        for (key, value) in extra { body[key] = value }
        return .object(body)
    }

    @Test func maxRunsFinishesTheJobAfterThatManyFirings() async throws {
        try await APIFixture.with { api throws in
            let created = try api.call("POST", "/api/v1/jobs", json: Self.hourly("twice", ["max_runs": 2]))
            #expect(created.status == 201 && created.json["job"]?["max_runs"] == 2 && created.json["job"]?["runs_fired"] == 0)
            let firer = JobFirer(pool: api.pool, clock: .test { api.clock.now })
            #expect(try firer.fireDue().succeeded == 1)
            // A manual run does not count toward max_runs.
            #expect(try api.call("POST", "/api/v1/jobs/twice/run").status == 201)
            #expect(try api.call("GET", "/api/v1/jobs/twice").json["job"]?["runs_fired"] == 1)
            api.clock.advance(seconds: 3600)
            #expect(try firer.fireDue().succeeded == 1)
            let job = try api.call("GET", "/api/v1/jobs/twice").json["job"]
            #expect(job?["state"] == "finished" && job?["next_run_time"] == .null && job?["runs_fired"] == 2)
            let schedule = try api.call("GET", "/api/v1/jobs/twice/schedule")
            #expect(schedule.json["blocked_by"]?[0]?["reason"] == "max_runs_reached")
            let resume = try api.call("PUT", "/api/v1/jobs/twice?state=running")
            #expect(resume.status == 409 && resume.error?.contains("fired its max_runs") == true)
            api.clock.advance(seconds: 3600)
            #expect(try firer.fireDue().claimed == 0)
        }
    }

    @Test func startAndEndDateBoundTheSlots() async throws {
        try await APIFixture.with { api throws in
            // Now is 12:00; the slots start at 14:00 and end with the 16:00 one.
            let body = Self.hourly("window", ["start_date": "2026-11-24T13:30:00Z", "end_date": "2026-11-24T16:00:00Z"])
            let created = try api.call("POST", "/api/v1/jobs", json: body)
            #expect(created.json["job"]?["next_run_time"] == "2026-11-24T14:00:00Z")
            #expect(created.json["job"]?["start_date"] == "2026-11-24T13:30:00Z" && created.json["job"]?["end_date"] == "2026-11-24T16:00:00Z")
            #expect(try api.call("GET", "/api/v1/jobs/window/schedule").json["times"] == ["2026-11-24T14:00:00Z", "2026-11-24T15:00:00Z", "2026-11-24T16:00:00Z"])
            // Down from 13:00 until 17:30: the slots 14, 15 and 16 coalesce, and the job is done.
            api.clock.advance(seconds: 5 * 3600 + 1800)
            let report = try JobFirer(pool: api.pool, clock: .test { api.clock.now }).fireDue()
            #expect(report.succeeded == 1)
            let runs = try api.call("GET", "/api/v1/jobs/window/runs").json["runs"]
            #expect(runs?[0]?["scheduled_for"] == "2026-11-24T16:00:00Z" && runs?[0]?["coalesced_slots"] == 2)
            let job = try api.call("GET", "/api/v1/jobs/window").json["job"]
            #expect(job?["state"] == "finished")
            #expect(try api.call("GET", "/api/v1/jobs/window/schedule").json["blocked_by"]?[0]?["reason"] == "end_date_passed")
            // An end_date already past: the job is created finished, with nothing to fire.
            let past = try api.call("POST", "/api/v1/jobs", json: Self.hourly("past", ["end_date": "2026-11-01T00:00:00Z"]))
            #expect(past.status == 201 && past.json["job"]?["state"] == "finished" && past.json["job"]?["next_run_time"] == .null)
        }
    }

    @Test func jitterMovesEachSlotTheSameWayOnEveryWrite() async throws {
        try await APIFixture.with { api throws in
            let body = Self.hourly("spread", ["jitter": "10 minutes"])
            let first = try api.call("POST", "/api/v1/jobs", json: body).json["job"]?["next_run_time"]?.stringValue
            let again = try api.call("POST", "/api/v1/jobs", json: body).json["job"]?["next_run_time"]?.stringValue
            #expect(first == again)
            let next = try LooseDate.parse(try #require(first), now: APIFixture.now)
            let slot = CivilTime(year: 2026, month: 11, day: 24, hour: 12)!.timestamp
            #expect(next >= slot && next <= slot + 600_000_000)
            #expect(try api.call("GET", "/api/v1/jobs/spread").json["job"]?["jitter"] == "0:10:00")
            // It fires at its moved time, for that time.
            api.clock.advance(seconds: 3600)
            #expect(try JobFirer(pool: api.pool, clock: .test { api.clock.now }).fireDue().succeeded == 1)
            #expect(try api.call("GET", "/api/v1/jobs/spread/runs").json["runs"]?[0]?["scheduled_for"]?.stringValue == first)
        }
    }

    @Test func badControlsAre400NamingTheField() async throws {
        try await APIFixture.with { api throws in
            let cases: [(JSONValue, String)] = [
                (Self.hourly("x", ["max_runs": 0]), "'max_runs'"),
                (Self.hourly("x", ["max_runs": 1_000_000_001]), "'max_runs'"),
                (Self.hourly("x", ["max_runs": "many"]), "'max_runs'"),
                (Self.hourly("x", ["jitter": "2 days"]), "'jitter'"),
                (Self.hourly("x", ["jitter": "-5"]), "'jitter'"),
                (Self.hourly("x", ["start_date": "whenever"]), "'start_date'"),
                (Self.hourly("x", ["end_date": "10000-01-01T00:00:00Z"]), "'end_date'"),
                (Self.hourly("x", ["start_date": "2026-12-02T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"]), "'end_date' (2026-12-01T00:00:00Z) is before 'start_date'"),
                (["handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "when": "2026-12-01T00:00:00Z", "max_runs": 3], "'max_runs' bounds a periodic or cron schedule"),
                (["handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "end_date": "2026-12-01T00:00:00Z"], "'end_date'"),
            ]
            for (body, message) in cases {
                let reply = try api.call("POST", "/api/v1/jobs", json: body)
                #expect(reply.status == 400 && reply.error?.contains(message) == true, "\(body.serialized()): \(reply.status) \(reply.error ?? "")")
            }
            // At the limits: one run, a day of jitter.
            #expect(try api.call("POST", "/api/v1/jobs", json: Self.hourly("edge", ["max_runs": 1_000_000_000, "jitter": "1 day"])).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs", json: Self.hourly("one", ["max_runs": 1])).status == 201)
        }
    }
}
