import Chronology
import FilterQuery
import JSON
import Jobs
import Postgres
import Scheduling
import TestSupport
import Testing

/// `$filter` flow arguments: expanded when the job fires, inside its firing, one flow per row.
@Suite struct FilterExpansionTests {
    static func filterJob(_ id: String, arguments: JSONValue, selective: Bool = false) -> JSONObject {
        var kwargs: JSONObject = ["flow_name": "bayesianFlow", "flow_arguments": arguments]
        if selective { kwargs["task_names"] = ["metadata"] }
        return [
            "job_id": .string(id), "handler": .string(selective ? "SelectiveFlowScheduling" : "FlowScheduling"),
            "kwargs": .object(kwargs), "when": .string(t(10).iso8601),
        ]
    }

    static let npmVersions: JSONValue = [
        "table": "versions", "select": ["packages.name as name", "versions.identifier as version", "ecosystems.name as ecosystem"],
        "joins": [
            ["table": "packages", "on": ["versions.package_id": "packages.id"]],
            ["table": "ecosystems", "on": ["packages.ecosystem_id": "ecosystems.id"]],
        ],
        "where": ["ecosystems.name": "npm"], "order_by": "versions.id",
    ]

    static func posted(_ db: JobsFixture, job: String) throws -> [(arguments: JSONValue, tasks: JSONValue?)] {
        try db.pool.withConnection { connection in
            try connection.query("SELECT arguments, task_names FROM flows WHERE job_id = \(job) ORDER BY position").map {
                (try $0.decode(JSONValue.self, column: "arguments"), try $0.decode(JSONValue?.self, column: "task_names"))
            }
        }
    }

    @Test func aFilterArgumentPostsOneFlowPerRowWithTheExtraKeysMergedOverIt() async throws {
        try await JobsFixture.with { db in
            try db.pool.withConnection { try FilterFixture.create(on: $0) }
            let plain: JSONValue = ["ecosystem": "npm", "name": "left-pad", "version": "1.0.0"]
            try db.save(Self.filterJob("npm", arguments: [plain, ["$filter": Self.npmVersions, "force": true, "ecosystem": "NPM"], .null]), now: t(0))
            let report = try db.fireDue(at: t(10))
            #expect(report.succeeded == 1)
            #expect(report.flowsPosted == 8)
            let arguments = try Self.posted(db, job: "npm").map(\.arguments)
            // Plain arguments stay one flow each, in place; the filter's rows come between.
            #expect(arguments.first == plain)
            #expect(arguments.last == .null)
            // The extra keys win over the row's columns, as in fabric8.
            let expected: [JSONValue] = [
                ("serve-static", "1.7.1"), ("serve-static", "1.10.0"), ("express", "4.14.0"), ("express", "4.15.2"),
                ("lodash", "4.17.4"), ("lodash", "4.17.5"),
            ].map { ["name": .string($0.0), "version": .string($0.1), "ecosystem": "NPM", "force": true] }
            #expect(Array(arguments.dropFirst().dropLast()) == expected)
        }
    }

    @Test func selectiveFlowSchedulingExpandsToo() async throws {
        try await JobsFixture.with { db in
            try db.pool.withConnection { try FilterFixture.create(on: $0) }
            try db.save(Self.filterJob("s", arguments: [["$filter": ["table": "ecosystems", "select": "name", "order_by": "id"]]], selective: true), now: t(0))
            #expect(try db.fireDue(at: t(10)).flowsPosted == 3)
            let posted = try Self.posted(db, job: "s")
            #expect(posted.map(\.arguments) == [["name": "npm"], ["name": "maven"], ["name": "pypi"]])
            #expect(posted.allSatisfy { $0.tasks == ["metadata"] })
        }
    }

    @Test func aFilterMatchingNothingPostsNoFlowAndSucceeds() async throws {
        try await JobsFixture.with { db in
            try db.pool.withConnection { try FilterFixture.create(on: $0) }
            try db.save(Self.filterJob("none", arguments: [["$filter": ["table": "packages", "where": ["name": "no-such"]]]]), now: t(0))
            let report = try db.fireDue(at: t(10))
            #expect(report.succeeded == 1)
            #expect(report.flowsPosted == 0)
        }
    }

    @Test func aFilterTheDatabaseRefusesAtFireTimeMakesAFailedJobRecordAndTheBatchGoesOn() async throws {
        try await JobsFixture.with { db in
            try db.pool.withConnection { try FilterFixture.create(on: $0) }
            // Well formed, so accepted when posted; the column does not exist when it fires.
            try db.save(Self.filterJob("broken", arguments: [["$filter": ["table": "packages", "where": ["nme": "x"]]]]), now: t(0))
            try db.save(Self.filterJob("fine", arguments: [["$filter": ["table": "ecosystems"]]]), now: t(0))
            let report = try db.fireDue(at: t(10))
            #expect(report.claimed == 2)
            #expect(report.failed == 1)
            #expect(report.succeeded == 1)
            #expect(report.flowsPosted == 3)
            #expect(try db.runs(of: "broken").map(\.outcome) == [.failed])
            let failed = try #require(try db.store.jobs(.failed).first)
            #expect(failed.kwargs["failed_job_id"] == "broken")
            #expect(failed.kwargs["error"]?.stringValue == #"'flow_arguments'[0]: the database refused the filter query: column "nme" does not exist (Perhaps you meant to reference the column "packages.name".)"#)
            // Where it came from: the argument, the filter's execution, the database's own error.
            let trace = try #require(failed.kwargs["trace"]?.arrayValue).compactMap(\.stringValue)
            #expect(trace.count == 3, "\(trace)")
            #expect(trace.first?.hasPrefix("FlowArgumentError: 'flow_arguments'[0]") == true)
            #expect(trace.dropFirst().first?.hasPrefix("FilterExecutionError: the database refused") == true)
            #expect(trace.last?.hasPrefix("PostgresError: ") == true && trace.last?.contains("42703") == true, "\(trace)")
            #expect(try Self.posted(db, job: "broken").isEmpty)
        }
    }

    @Test func rowsAtTheCapExpandAndOneRowMoreFailsRatherThanTruncates() async throws {
        for (cap, fails) in [(14, false), (13, true)] {
            let handlers = HandlerRegistry.standard(filters: FilterPolicy(maximumRows: cap))
            try await JobsFixture.with(handlers: handlers) { db in
                try db.pool.withConnection { try FilterFixture.create(on: $0) }
                try db.save(Self.filterJob("all", arguments: [["$filter": ["table": "versions"]]]), now: t(0), handlers: handlers)
                let report = try db.fireDue(at: t(10))
                #expect(report.failed == (fails ? 1 : 0))
                #expect(report.flowsPosted == (fails ? 0 : 14))
                if fails {
                    #expect(try db.store.jobs(.failed).first?.kwargs["error"]?.stringValue
                        == "'flow_arguments'[0]: the filter matches more than 13 rows, the most one expansion may post; narrow its 'where' or add a 'limit'")
                }
            }
        }
    }

    @Test func aFilterPastTheStatementTimeoutFailsWithTheReason() async throws {
        let handlers = HandlerRegistry.standard(filters: FilterPolicy(statementTimeout: .milliseconds(20)))
        try await JobsFixture.with(handlers: handlers) { db in
            // 3,000 equal keys joined with themselves: nine million rows to count.
            try db.pool.withConnection { try $0.execute("CREATE TABLE big AS SELECT 1 AS k FROM generate_series(1, 3000)") }
            let slow: JSONValue = ["table": "big AS a", "joins": ["table": "big AS b", "on": ["a.k": "b.k"]], "count": true]
            try db.save(Self.filterJob("slow", arguments: [["$filter": slow]]), now: t(0), handlers: handlers)
            #expect(try db.fireDue(at: t(10)).failed == 1)
            let error = try #require(try db.store.jobs(.failed).first?.kwargs["error"]?.stringValue)
            #expect(error.hasPrefix("'flow_arguments'[0]: the filter query ran longer than the "), "\(error)")
        }
    }

    @Test func aFilterWithTheMostValuesAllowedStillExpands() async throws {
        // 65,534 values of the filter's and the expander's own LIMIT: PostgreSQL's 65,535.
        let lists = stride(from: 0, to: 65_534, by: 10_000).map { start in
            JSONValue.object(["id in": .array((start..<min(start + 10_000, 65_534)).map { .int(Int64($0)) })])
        }
        let query = try FilterQuery(parsing: ["table": "versions", "select": "id", "where": ["$or": .array(lists)]])
        try await JobsFixture.with { db in
            try db.pool.withConnection { try FilterFixture.create(on: $0) }
            let rows = try db.pool.withConnection { try FilterExpander(policy: .standard).rows(matching: query, on: $0) }
            #expect(rows.count == 14)
        }
    }

    @Test func rowsBecomeJSONWithExactValues() async throws {
        try await JobsFixture.with { db in
            try db.pool.withConnection { try FilterFixture.create(on: $0) }
            let query = try FilterQuery(parsing: [
                "table": "analyses", "select": ["id", "started_at", "finished_at", "score", "audit", "tags", "access_count"],
                "where": ["id in": [1, 2]], "order_by": "id",
            ])
            let rows = try db.pool.withConnection { try FilterExpander(policy: .standard).rows(matching: query, on: $0) }
            #expect(rows.map { JSONValue.object($0).serialized() } == [
                #"{"id":1,"started_at":"2017-03-30T10:00:00Z","finished_at":"2017-03-30T10:05:00Z","score":1.500,"audit":{"version":"v1"},"tags":["a","b"],"access_count":3}"#,
                #"{"id":2,"started_at":"2017-04-02T08:00:00Z","finished_at":null,"score":null,"audit":null,"tags":null,"access_count":0}"#,
            ])
        }
    }

    @Test func aMalformedFilterIsRefusedWhenTheJobIsDefined() throws {
        let body = Self.filterJob("bad", arguments: [["$filter": ["table": "versions", "where": ["id ==": 1]]]])
        let error = #expect(throws: JobDefinitionError.self) { try JobDefinition.parse(body, handlers: .standard) }
        #expect(error?.message.contains(#"'flow_arguments'[0].$filter.where["id =="]: "==" is not an operator"#) == true, "\(error?.message ?? "")")
    }

    /// What one firing may post is capped in bytes, across all its arguments: past the cap the
    /// run fails with the reason and nothing is posted.
    @Test func aFiringPastItsByteCapFailsAndPostsNothing() async throws {
        let handlers = HandlerRegistry.standard(filters: FilterPolicy(maximumBytes: 64 << 10))
        try await JobsFixture.with(handlers: handlers) { db in
            try db.pool.withConnection { try FilterFixture.create(on: $0) }
            let pad = JSONValue.string(String(repeating: "x", count: 20_000))
            try db.save(Self.filterJob("big", arguments: [["pad": pad], ["$filter": ["table": "ecosystems"], "pad": pad]]), now: t(0), handlers: handlers)
            try db.save(Self.filterJob("fits", arguments: [["pad": pad], ["$filter": ["table": "ecosystems", "limit": 1], "pad": pad]]), now: t(0), handlers: handlers)
            let report = try db.fireDue(at: t(10))
            #expect(report.failed == 1 && report.succeeded == 1)
            #expect(try Self.posted(db, job: "big").isEmpty)
            #expect(try Self.posted(db, job: "fits").count == 2)
            let error = try #require(try db.runs(of: "big").first?.error)
            #expect(error.hasPrefix("'flow_arguments'[1]: the expansion would come to more than 65536 bytes of JSON"), "\(error)")
        }
    }
}
