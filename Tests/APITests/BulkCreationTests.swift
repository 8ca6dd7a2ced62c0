import Foundation
import Jobs
import JSON
import TestSupport
import Testing

/// `POST /jobs` with an array: up to 10,000 jobs in one transaction, all or none.
@Suite struct BulkCreationTests {
    private static func job(_ index: Int, when: String = "2026-12-01 02:00") -> JSONValue {
        ["job_id": .string("bulk-\(index)"), "handler": "FlowScheduling", "when": .string(when), "periodically": "1 day",
         "kwargs": ["flow_name": "bayesianFlow", "flow_arguments": [["ecosystem": "npm", "name": .string("package-\(index)")]]]]
    }

    private static func count(_ api: APIFixture) throws -> JSONValue? {
        try api.call("GET", "/api/v1/jobs?limit=1").json["jobs_count"]
    }

    @Test func tenThousandJobsAreCreatedInOneRequestThenReplaced() async throws {
        try await APIFixture.with { api throws in
            let bodies = JSONValue.array((0..<10_000).map { Self.job($0) })
            // Over the usual 1 MiB body limit: this route takes more.
            #expect(bodies.serialized().utf8.count > 1024 * 1024)
            let created = try api.call("POST", "/api/v1/jobs", json: bodies)
            #expect(created.status == 201, "\(created.text.prefix(300))")
            #expect(created.json["created"] == 10_000 && created.json["replaced"] == 0)
            #expect(created.json["jobs"]?.arrayValue?.count == 10_000)
            #expect(created.json["jobs"]?[9_999] == ["job_id": "bulk-9999", "created": true, "next_run_time": "2026-12-01T02:00:00Z"])
            #expect(try Self.count(api) == 10_000)
            let shown = try api.call("GET", "/api/v1/jobs/bulk-4321")
            #expect(shown.json["job"]?["kwargs"]?["flow_arguments"]?[0]?["name"] == "package-4321")

            let replaced = try api.call("POST", "/api/v1/jobs", json: bodies)
            #expect(replaced.status == 200)
            #expect(replaced.json["created"] == 0 && replaced.json["replaced"] == 10_000)
            #expect(replaced.json["jobs"]?[0]?["created"] == false)
            #expect(try Self.count(api) == 10_000)
        }
    }

    @Test func oneBadJobKeepsEveryJobOutAndIsNamedByItsIndex() async throws {
        try await APIFixture.with { api throws in
            var bodies = (0..<20).map { Self.job($0) }
            bodies[7] = ["job_id": "bad", "handler": "FlowScheduling", "periodically": "often", "kwargs": ["flow_name": "x"]]
            let refused = try api.call("POST", "/api/v1/jobs", json: .array(bodies))
            #expect(refused.status == 400)
            #expect(refused.error?.hasPrefix("[7]: 'periodically'") == true, "\(refused.error ?? "")")
            #expect(try Self.count(api) == 0)

            // Found only when written (a one-shot in the past): the same, from the store.
            bodies[7] = ["job_id": "past", "handler": "FlowScheduling", "when": "2020-01-01", "kwargs": ["flow_name": "x"]]
            let past = try api.call("POST", "/api/v1/jobs", json: .array(bodies))
            #expect(past.status == 400)
            #expect(past.error?.hasPrefix("[7] (job \"past\")") == true, "\(past.error ?? "")")
            #expect(try Self.count(api) == 0)
        }
    }

    @Test func malformedArraysAreRefusedWithWhatToFix() async throws {
        try await APIFixture.with { api throws in
            let cases: [(JSONValue, String)] = [
                ([], "empty"),
                ([Self.job(1), "not a job"], "[1]: a job must be a JSON object"),
                ([Self.job(1), Self.job(2), Self.job(1)], "[2]: 'job_id' \"bulk-1\" is also the id of [0]"),
                (.array((0...10_000).map { _ in [:] }), "the array holds 10001 jobs; at most 10000"),
                ("a string", "a job (a JSON object) or an array of jobs"),
            ]
            for (body, message) in cases {
                let reply = try api.call("POST", "/api/v1/jobs", json: body)
                #expect(reply.status == 400, "\(message)")
                #expect(reply.error?.contains(message) == true, "\(reply.error ?? reply.text)")
            }
            #expect(try Self.count(api) == 0)
        }
    }

    @Test func onlyTheBulkRouteTakesBodiesOverTheUsualLimit() async throws {
        try await APIFixture.with { api throws in
            let padding = String(repeating: " ", count: 2 * 1024 * 1024)
            let big = "[" + Self.job(1).serialized() + padding + "]"
            #expect(try api.call("POST", "/api/v1/jobs", body: big).status == 201)
            // The same size elsewhere is over the limit, and 16 MiB is the most this route takes.
            #expect(try api.call("POST", "/api/v1/schedules/preview", body: "{" + padding + "}").status == 413)
            let tooBig = "[" + Self.job(2).serialized() + String(repeating: " ", count: 16 * 1024 * 1024) + "]"
            #expect(try api.call("POST", "/api/v1/jobs", body: tooBig).status == 413)
        }
    }
}
