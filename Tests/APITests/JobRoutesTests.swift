import Chronology
import Jobs
import JSON
import TestSupport
import Testing

@Suite struct JobRoutesTests {
    static let nightly: JSONValue = [
        "job_id": "nightly", "handler": "FlowScheduling",
        "kwargs": ["flow_name": "bayesianFlow", "flow_arguments": [["ecosystem": "npm", "name": "serve-static", "version": "1.7.1"]]],
        "when": "2026-12-01 02:00", "periodically": "1 day", "misfire_grace_time": "1 hour", "state": "running",
    ]

    @Test func createShowListAndDeleteAJob() async throws {
        try await APIFixture.with { api throws in
            let created = try api.call("POST", "/api/v1/jobs", json: Self.nightly)
            #expect(created.status == 201)
            #expect(created.json["job"] == [
                "job_id": "nightly", "handler": "FlowScheduling", "kwargs": Self.nightly["kwargs"]!, "state": "running",
                "when": "2026-12-01T02:00:00Z", "periodically": "1 day, 0:00:00", "cron": nil, "timezone": nil, "description": "Every day", "start_date": nil, "end_date": nil, "max_runs": nil, "jitter": nil, "runs_fired": 0,
                "misfire_grace_time": "1:00:00", "next_run_time": "2026-12-01T02:00:00Z", "origin": "api",
                "created_at": created.json["job"]!["created_at"]!, "updated_at": created.json["job"]!["updated_at"]!,
                "priority": "normal", "max_attempts": 1, "retry_delay": "0:00:10", "overlap": "allow_all", "last_status": nil,
            ])
            let shown = try api.call("GET", "/api/v1/jobs/nightly")
            #expect(shown.status == 200)
            #expect(shown.json["job"]?["next_run_time"] == "2026-12-01T02:00:00Z")
            #expect(shown.json["recent_runs"] == [])

            let listed = try api.call("GET", "/api/v1/jobs")
            #expect(listed.json["jobs_count"] == 1)
            #expect(try api.call("GET", "/api/v1/jobs?job_type=user").json["jobs_count"] == 1)
            #expect(try api.call("GET", "/api/v1/jobs?job_type=failed").json["jobs_count"] == 0)

            // Posting the same job_id replaces it: 200, not 201.
            var replacement = Self.nightly
            if case .object(var object) = replacement {
                object["periodically"] = "12 hours"
                replacement = .object(object)
            }
            let replaced = try api.call("POST", "/api/v1/jobs", json: replacement)
            #expect(replaced.status == 200)
            #expect(replaced.json["job"]?["periodically"] == "12:00:00")

            #expect(try api.call("DELETE", "/api/v1/jobs/nightly").json == ["removed": ["nightly"]])
            let gone = try api.call("GET", "/api/v1/jobs/nightly")
            #expect(gone.status == 404)
            #expect(gone.error == "no job with job_id \"nightly\"")
            #expect(try api.call("DELETE", "/api/v1/jobs/nightly").status == 404)
        }
    }

    /// fabric8's README example: schedule parameters in the query, the kwargs as the body.
    @Test func fabric8CurlExampleWithQueryParameters() async throws {
        try await APIFixture.with { api throws in
            let reply = try api.call(
                "POST", "/api/v1/jobs/flow-scheduling?state=running&periodically=1%20day&job_id=bayesian-npm",
                body: #"{"flow_arguments": [{"ecosystem": "npm", "name": "serve-static", "version": "1.7.1"}], "flow_name": "bayesianFlow"}"#)
            #expect(reply.status == 201)
            #expect(reply.json["job"]?["job_id"] == "bayesian-npm")
            #expect(reply.json["job"]?["handler"] == "FlowScheduling")
            #expect(reply.json["job"]?["periodically"] == "1 day, 0:00:00")
            // No `when`: the first run is one interval after creation.
            #expect(reply.json["job"]?["next_run_time"] == .string((APIFixture.now + 86_400_000_000).iso8601))
            let selective = try api.call(
                "POST", "/api/v1/jobs/selective-flow-scheduling?when=Mon%20Dec%2028,%2014:56",
                body: #"{"flow_name": "bayesianFlow", "task_names": ["GithubTask"], "flow_arguments": [null]}"#)
            #expect(selective.status == 201)
            #expect(selective.json["job"]?["when"] == "2026-12-28T14:56:00Z")
            #expect(selective.json["job"]?["periodically"] == false)
        }
    }

    /// As the spec says: null is the same as leaving a key out, and a duration may be a number
    /// of seconds, as in a YAML job file.
    @Test func nullMeansNotGivenAndADurationMayBeSeconds() async throws {
        try await APIFixture.with { api throws in
            let reply = try api.call("POST", "/api/v1/jobs", body: #"""
                {"job_id": null, "handler": "FlowScheduling", "kwargs": {"flow_name": "f"},
                 "when": null, "periodically": 90, "misfire_grace_time": null, "state": null}
                """#)
            #expect(reply.status == 201)
            #expect(reply.json["job"]?["periodically"] == "0:01:30")
            #expect(reply.json["job"]?["misfire_grace_time"] == .null)
            #expect(reply.json["job"]?["state"] == "running")
            #expect(reply.json["job"]?["next_run_time"] == .string((APIFixture.now + 90_000_000).iso8601))
            #expect(reply.json["job"]?["job_id"]?.stringValue?.isEmpty == false)
        }
    }

    /// Bodies that must be refused, each with its message (nil: any message).
    static let badDefinitions: [(String, String?)] = [
        (#"{"handler": "NoSuch"}"#, "unknown handler \"NoSuch\"; use one of \"FlowScheduling\", \"SelectiveFlowScheduling\", \"Webhook\", \"ErrorHandler\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "periodically": "1 dya"}"#,
         "'periodically': \"1 dya\" is not a duration; try \"1 day\", \"5:00:00\", \"1h30m\" or \"90s\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "when": "2020-01-01"}"#,
         "'when': 2020-01-01T00:00:00Z is in the past (now is 2026-11-24T12:00:00Z); a one-shot job needs a future time"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "state": "sleeping"}"#,
         "'state': \"sleeping\" is not a job state; use \"running\" or \"paused\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow": "f"}}"#,
         "'kwargs' for FlowScheduling: unknown key \"flow\"; accepted: \"flow_name\", \"flow_arguments\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_arguments": {"a": 1}}}"#,
         "'kwargs' for FlowScheduling: 'flow_arguments' must be a list (one flow per element), not an object"),
        (#"{"handler": "SelectiveFlowScheduling", "kwargs": {"flow_name": "f"}}"#,
         "'kwargs' for SelectiveFlowScheduling: 'task_names' is required: a list of task names"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_arguments": [null, {"$filter": {"table": "t", "joins": [{"table": "u", "using": "id"}, {"table": "v", "on": "id"}]}}]}}"#,
         "'kwargs' for FlowScheduling: 'flow_arguments'[1].$filter.joins[1].on: expected an object of column pairs, such as {\"a.id\": \"b.a_id\"}, not a string"),
        (#"{"handler": "SelectiveFlowScheduling", "kwargs": {"flow_name": "f", "task_names": ["t"], "flow_arguments": [{"$filter": {"table": "t; DROP TABLE jobs"}}]}}"#,
         "'kwargs' for SelectiveFlowScheduling: 'flow_arguments'[0].$filter.table: \"t; DROP TABLE jobs\" is not a table; write \"versions\" or \"analyses AS A\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "periodically": "0"}"#,
         "'periodically': the interval must be longer than 0 seconds"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "job_id": 7}"#, "'job_id' must be a string, not a number"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "colour": "red"}"#,
         "unknown key \"colour\"; a job has \"job_id\", \"handler\", \"kwargs\", \"when\", \"periodically\", \"cron\", \"timezone\", \"misfire_grace_time\", \"state\", \"priority\", \"max_attempts\", \"retry_delay\", \"overlap\", \"start_date\", \"end_date\", \"max_runs\", \"jitter\""),
        (#"{"kwargs": {}}"#, "'handler' is required; one of \"FlowScheduling\", \"SelectiveFlowScheduling\", \"Webhook\", \"ErrorHandler\""),
        (#"[1, 2]"#, "[0]: a job must be a JSON object, not a number"),
        (#"7"#, "the body must be a job (a JSON object) or an array of jobs, not a number"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "when": "9999-12-31T23:59:59-05:00"}"#,
         "'when': +010000-01-01T04:59:59Z is outside the times Kairos schedules, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z (UTC)"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "periodically": "1000000000 days"}"#,
         "'periodically': \"1000000000 days\" is too long; the longest duration accepted is 999999 days"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "state": "paused", "state": "running"}"#,
         "the body is not valid JSON: duplicate key \"state\" in one object at line 1, column 80"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_name": "g"}}"#,
         "the body is not valid JSON: duplicate key \"flow_name\" in one object at line 1, column 60"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "job_id": "clean-failed"}"#,
         "'job_id': \"clean-failed\" is reserved: DELETE /jobs/clean-failed removes the failure records, so a job of that id could never be deleted; choose another id"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "job_id": "selective-flow-scheduling"}"#,
         "'job_id': \"selective-flow-scheduling\" is reserved: POST /jobs/selective-flow-scheduling creates a job of handler SelectiveFlowScheduling; choose another id"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "job_id": "   "}"#,
         "'job_id' must not be blank; give it a name, or leave it out for a generated one"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "nul\u0000"}}"#, "'kwargs' for FlowScheduling: 'flow_name' must not hold U+0000"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "priority": "urgent"}"#,
         "'priority': \"urgent\" is not a priority; use one of \"very_high\", \"high\", \"normal\", \"low\", \"very_low\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "max_attempts": 0}"#, "'max_attempts': must be a whole number from 1 to 100, not 0"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "max_attempts": 101}"#, "'max_attempts': must be a whole number from 1 to 100, not 101"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "max_attempts": 2.5}"#, "'max_attempts': must be a whole number from 1 to 100, not 2.5"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "max_attempts": true}"#, "'max_attempts' must be a string, not a boolean"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "retry_delay": "2 days"}"#,
         "'retry_delay': 2 days, 0:00:00 is longer than the longest retry delay, 1 day, 0:00:00"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "cron": "0 0 32 * *"}"#,
         "'cron': field 3 (day of month): 32 is out of 1-31"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "cron": "0 0 30 2 *"}"#,
         "'cron': \"0 0 30 2 *\" never fires: no date matches its day-of-month, month and day-of-week"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "cron": "@daily", "periodically": "1 day"}"#,
         "give a job either 'periodically' or 'cron', not both"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "cron": "@daily", "timezone": "../../etc/passwd"}"#,
         "'timezone': \"../../etc/passwd\" is not an IANA time zone name; use one such as \"Europe/Prague\" or \"UTC\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "cron": "@daily", "timezone": "Mars/Olympus_Mons"}"#,
         "'timezone': \"Mars/Olympus_Mons\" is not a time zone this system's tz database knows; use one such as \"Europe/Prague\" or \"UTC\""),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "cron": "0 0 1 1 *", "when": "9999-12-31T23:00:00Z"}"#,
         "'cron': the schedule has no time from its start to 9999-12-31T23:59:59Z (UTC), the last Kairos schedules"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "timezone": "Europe/Prague"}"#,
         "'timezone' is the zone 'cron' is read in; give a 'cron' too, or leave it out"),
        (#"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f"}, "overlap": "never"}"#,
         "'overlap': \"never\" is not an overlap policy; use one of \"allow_all\", \"skip\", \"buffer_one\", \"cancel_other\""),
    ]

    /// One service for the whole table: a schema of its own per case would be some forty
    /// migrated schemas at once, more than the rest of the suite's database work.
    @Test func badJobDefinitionsAre400WithAMessage() async throws {
        try await APIFixture.with { api throws in
            for (body, message) in Self.badDefinitions {
                let reply = try api.call("POST", "/api/v1/jobs", body: body)
                #expect(reply.status == 400, "\(body)")
                if let message { #expect(reply.error == message, "\(body)") } else { #expect(reply.error != nil, "\(body)") }
            }
            // Nothing was stored.
            #expect(try api.call("GET", "/api/v1/jobs").json["jobs_count"] == 0)
        }
    }

    @Test func malformedJSONAndWrongContentTypeAreClientErrors() async throws {
        try await APIFixture.with { api throws in
            let broken = try api.call("POST", "/api/v1/jobs", body: #"{"handler": "#)
            #expect(broken.status == 400)
            #expect(broken.error?.hasPrefix("the body is not valid JSON") == true)
            let form = try api.call("POST", "/api/v1/jobs", body: "a=b", contentType: "application/x-www-form-urlencoded")
            #expect(form.status == 415)
            let unknownHandler = try api.call("POST", "/api/v1/jobs/no-such-handler", body: "{}")
            #expect(unknownHandler.status == 400)
            let typo = try api.call("POST", "/api/v1/jobs/flow-scheduling?periodicaly=1%20day", body: #"{"flow_name": "f"}"#)
            #expect(typo.status == 400)
            #expect(typo.error?.hasPrefix("unknown query parameter 'periodicaly'") == true)
            #expect(try api.call("GET", "/api/v1/jobs?job_type=mine").status == 400)
            // Found by schemathesis: a repeated parameter was read as its first value.
            let twice = try api.call("GET", "/api/v1/flows?offset=7&limit=5&offset=U")
            #expect(twice.status == 400)
            #expect(twice.error == "query parameter 'offset' is given 2 times; give it once")
            #expect(try api.call("GET", "/api/v1/flows?offset=7&limit=5").status == 200)
        }
    }

    @Test func pauseResumeAndBadStates() async throws {
        try await APIFixture.with { api throws in
            #expect(try api.call("POST", "/api/v1/jobs", json: Self.nightly).status == 201)
            #expect(try api.call("PUT", "/api/v1/jobs/nightly?state=paused").json == ["job_id": "nightly", "state": "paused"])
            #expect(try api.call("GET", "/api/v1/jobs/nightly").json["job"]?["next_run_time"] == .null)
            #expect(try api.call("PUT", "/api/v1/jobs/nightly?state=running").json == ["job_id": "nightly", "state": "running"])
            #expect(try api.call("GET", "/api/v1/jobs/nightly").json["job"]?["next_run_time"] == "2026-12-01T02:00:00Z")
            let bad = try api.call("PUT", "/api/v1/jobs/nightly?state=finished")
            #expect(bad.status == 400)
            #expect(bad.error == "'state': \"finished\" is not accepted; use one of \"running\", \"paused\"")
            #expect(try api.call("PUT", "/api/v1/jobs/nightly").status == 400)
            #expect(try api.call("PUT", "/api/v1/jobs/nobody?state=paused").status == 404)
        }
    }

    @Test func runNowRecordsARunAndPostsItsFlows() async throws {
        try await APIFixture.with { api throws in
            #expect(try api.call("POST", "/api/v1/jobs", json: Self.nightly).status == 201)
            let run = try api.call("POST", "/api/v1/jobs/nightly/run")
            #expect(run.status == 201)
            #expect(run.json["run"]?["cause"] == "manual")
            #expect(run.json["run"]?["outcome"] == "succeeded")
            #expect(run.json["run"]?["flows_posted"] == 1)
            let runs = try api.call("GET", "/api/v1/jobs/nightly/runs")
            #expect(runs.json["runs_count"] == 1)
            #expect(try api.call("GET", "/api/v1/jobs/nightly").json["recent_runs"]?.arrayValue?.count == 1)
            #expect(try api.call("GET", "/api/v1/jobs/nightly").json["job"]?["next_run_time"] == "2026-12-01T02:00:00Z")
            #expect(try api.call("POST", "/api/v1/jobs/nobody/run").status == 404)
            #expect(try api.call("GET", "/api/v1/jobs/nobody/runs").status == 404)
            #expect(try api.call("GET", "/api/v1/jobs/nightly/runs?limit=0").status == 400)

            let flows = try api.call("GET", "/api/v1/flows?job_id=nightly&state=unclaimed")
            #expect(flows.json["flows_count"] == 1)
            let flow = try #require(flows.json["flows"]?[0])
            #expect(flow["flow_name"] == "bayesianFlow")
            #expect(flow["arguments"] == ["ecosystem": "npm", "name": "serve-static", "version": "1.7.1"])
            #expect(flow["scheduled_for"] == "2026-11-24T12:00:00Z")
            // One flow shows what the list shows, and its lease besides.
            let one = try api.call("GET", "/api/v1/flows/\(flow["id"]!.intValue!)").json
            let listed = try #require(flow.objectValue)
            #expect(zip(listed.keys, listed.values).allSatisfy { key, value in one[key] == value }, "\(one)")
            #expect(one["attempt"] == 0 && one["worker"] == .null && one["lease_token"] == nil)
            #expect(try api.call("GET", "/api/v1/flows/999999").status == 404)
            #expect(try api.call("GET", "/api/v1/flows/abc").status == 404)
            #expect(try api.call("GET", "/api/v1/flows?state=done").status == 400)
            #expect(try api.call("GET", "/api/v1/flows?limit=1001").status == 400)
            #expect(try api.call("GET", "/api/v1/flows?limit=1000&offset=1").json["flows"] == [])
        }
    }

    @Test func failedJobRecordsAreListedAndCleaned() async throws {
        try await APIFixture.with { api throws in
            // A failure record as fabric8 kept them, made here directly as a paused ErrorHandler job.
            try api.pool.withConnection { connection in
                try connection.execute("""
                    INSERT INTO jobs (job_id, handler, kwargs, start_at, state, origin)
                    VALUES ('f1', 'ErrorHandler', '{"error": "boom", "failed_job_id": "x"}', now(), 'paused', 'failure')
                    """)
            }
            let failed = try api.call("GET", "/api/v1/jobs?job_type=failed")
            #expect(failed.json["jobs_count"] == 1)
            #expect(failed.json["jobs"]?[0]?["kwargs"]?["error"] == "boom")
            #expect(try api.call("GET", "/api/v1/jobs?job_type=user").json["jobs_count"] == 0)
            #expect(try api.call("DELETE", "/api/v1/jobs/clean-failed").json == ["removed": ["f1"]])
            #expect(try api.call("DELETE", "/api/v1/jobs/clean-failed").json == ["removed": []])
        }
    }

    @Test func serviceStateIsPersistedAndValidated() async throws {
        try await APIFixture.with { api throws in
            #expect(try api.call("GET", "/api/v1/service/state").json == ["state": "running"])
            #expect(try api.call("PUT", "/api/v1/service/state?state=paused").json == ["state": "paused"])
            #expect(try api.call("GET", "/api/v1/service/state").json == ["state": "paused"])
            #expect(try api.call("PUT", "/api/v1/service/state?state=off").status == 400)
            #expect(try api.call("PUT", "/api/v1/service/state?state=running").json == ["state": "running"])
        }
    }

    @Test func aFinishedOneShotLeavesTheListAndCannotBeResumed() async throws {
        try await APIFixture.with { api throws in
            let created = try api.call("POST", "/api/v1/jobs", json: ["job_id": "once", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"]])
            #expect(created.json["job"]?["next_run_time"] == .string(APIFixture.now.iso8601))  // no `when`: now
            #expect(try JobFirer(pool: api.pool, clock: .test { APIFixture.now }).fireDue().succeeded == 1)
            #expect(try api.call("GET", "/api/v1/jobs").json["jobs_count"] == 0)
            let finished = try api.call("GET", "/api/v1/jobs?job_type=finished")
            #expect(finished.json["jobs"]?[0]?["state"] == "finished")
            #expect(try api.call("GET", "/api/v1/jobs/once/runs").json["runs_count"] == 1)
            let resume = try api.call("PUT", "/api/v1/jobs/once?state=running")
            #expect(resume.status == 409)
            #expect(resume.error == "job \"once\" has finished (it was a one-shot); post it again to run it again")
        }
    }

    /// A cron job in a zone: stored, shown, and fired at its slots by Debian cron's DST rules.
    @Test func aCronJobInATimeZoneFiresAtItsWallClockSlots() async throws {
        try await APIFixture.with { api throws in
            let body: JSONValue = [
                "job_id": "prague", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "cron": "30 2 * * *",
                "timezone": "Europe/Prague",
            ]
            let created = try api.call("POST", "/api/v1/jobs", json: body)
            #expect(created.status == 201)
            // 2026-11-24 12:00 UTC is 13:00 CET: the next 02:30 CET is 01:30 UTC the day after.
            #expect(created.json["job"]?["next_run_time"] == "2026-11-25T01:30:00Z")
            #expect(created.json["job"]?["cron"] == "30 2 * * *")
            #expect(created.json["job"]?["timezone"] == "Europe/Prague")
            #expect(created.json["job"]?["periodically"] == false)
            let shown = try api.call("GET", "/api/v1/jobs/prague")
            #expect(shown.json["job"]?["next_run_time"] == "2026-11-25T01:30:00Z")
            // Down for three days and back at 01:40 UTC: the missed slots coalesce into the latest.
            let later = CivilTime(year: 2026, month: 11, day: 28, hour: 1, minute: 40)!.timestamp
            #expect(try JobFirer(pool: api.pool, clock: .test { later }).fireDue().succeeded == 1)
            let runs = try api.call("GET", "/api/v1/jobs/prague/runs")
            #expect(runs.json["runs"]?[0]?["scheduled_for"] == "2026-11-28T01:30:00Z")
            #expect(runs.json["runs"]?[0]?["coalesced_slots"] == 3)
            #expect(try api.call("GET", "/api/v1/jobs/prague").json["job"]?["next_run_time"] == "2026-11-29T01:30:00Z")
            // Replaced with an interval: the cron is gone.
            let replaced = try api.call("POST", "/api/v1/jobs", json: ["job_id": "prague", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"], "periodically": "1 hour"])
            #expect(replaced.json["job"]?["cron"] == .null)
        }
    }

    @Test func wrongMethodIs405() async throws {
        try await APIFixture.with { api throws in
            let reply = try api.call("PATCH", "/api/v1/jobs")
            #expect(reply.status == 405)
            #expect(reply.headers.first { $0.0.lowercased() == "allow" }?.1 == "GET, HEAD, POST, OPTIONS")
        }
    }

    /// What the client sent keeps its key order, in what the API returns and in the flows
    /// workers receive (jsonb would reorder: `{"zeta","alpha","mid"}` comes back `mid, zeta, alpha`).
    @Test func kwargsAndFlowArgumentsKeepTheirKeyOrder() async throws {
        try await APIFixture.with { api throws in
            let argument = #"{"zeta":1,"alpha":{"version":"1.0","name":"x","ecosystem":"npm"},"mid":[3]}"#
            let kwargs = #"{"flow_arguments":["# + argument + #"],"flow_name":"f"}"#
            let created = try api.call("POST", "/api/v1/jobs", body: #"{"job_id": "ordered", "handler": "FlowScheduling", "kwargs": "# + kwargs + "}")
            #expect(created.status == 201)
            #expect(created.json["job"]?["kwargs"]?.serialized() == kwargs)
            #expect(try api.call("GET", "/api/v1/jobs/ordered").json["job"]?["kwargs"]?.serialized() == kwargs)
            #expect(try api.call("POST", "/api/v1/jobs/ordered/run").status == 201)
            let flows = try api.call("GET", "/api/v1/flows?job_id=ordered").json["flows"]
            #expect(flows?[0]?["arguments"]?.serialized() == argument)
        }
    }
}
