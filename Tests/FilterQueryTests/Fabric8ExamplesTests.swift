import FilterQuery
import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// The filters fabric8 operators wrote, run against fabric8's tables: each returns exactly what
/// the same query written by hand returns, and compiles to the checked-in SQL.
@Suite struct Fabric8ExamplesTests {
    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let argument: String
        let handWritten: SQL
        /// How many rows the fixture holds for it, so an empty comparison cannot pass.
        let rowCount: Int
        var testDescription: String { name }
    }

    static let examples: [Example] = [
        Example(
            name: "failed-worker-results",
            argument: #"""
                {"$filter": {"joins": [{"on": {"worker_results.analysis_id": "analyses.id"}, "table": "analyses"},
                                       {"on": {"analyses.id": "versions.id"}, "table": "versions"},
                                       {"on": {"versions.package_id": "packages.id"}, "table": "packages"},
                                       {"on": {"ecosystems.id": "packages.ecosystem_id"}, "table": "ecosystems"}],
                             "select": ["packages.name as name", "ecosystems.name as ecosystem", "versions.identifier as version"],
                             "table": "worker_results", "where": {"worker_results.error": true}},
                 "force": true}
                """#,
            handWritten: """
                SELECT p.name AS name, e.name AS ecosystem, v.identifier AS version
                FROM worker_results wr
                JOIN analyses a ON wr.analysis_id = a.id
                JOIN versions v ON a.id = v.id
                JOIN packages p ON v.package_id = p.id
                JOIN ecosystems e ON e.id = p.ecosystem_id
                WHERE wr.error
                """,
            rowCount: 5),
        Example(
            name: "count-analyses",
            argument: #"{"$filter": {"table": "analyses", "count": true}}"#,
            handWritten: "SELECT count(*) FROM analyses",
            rowCount: 1),
        Example(
            name: "unfinished-without-newer-finished",
            argument: FilterFixture.unfinishedWithoutNewerFinished,
            handWritten: """
                SELECT DISTINCT v.identifier AS version, p.name AS name, e.name AS ecosystem
                FROM analyses a
                LEFT JOIN versions v ON a.version_id = v.id
                LEFT JOIN packages p ON v.package_id = p.id
                LEFT JOIN ecosystems e ON p.ecosystem_id = e.id
                WHERE a.finished_at IS NULL
                  AND v.id NOT IN (SELECT v2.id FROM analyses a2 LEFT JOIN versions v2 ON a2.version_id = v2.id
                                   WHERE a2.finished_at IS NOT NULL AND a2.started_at > a.started_at)
                """,
            rowCount: 7),
        Example(
            name: "started-after",
            argument: #"{"$filter": {"table": "analyses", "where": {"analyses.started_at >": "2017-04-01 20:00:00"}}}"#,
            handWritten: "SELECT * FROM analyses WHERE started_at > timestamptz '2017-04-01 20:00:00+00'",
            rowCount: 9),
        Example(
            name: "not-finished",
            argument: #"{"$filter": {"table": "analyses", "where": {"analyses.finished_at": null}}}"#,
            handWritten: "SELECT * FROM analyses WHERE finished_at IS NULL",
            rowCount: 8),
    ]

    @Test(arguments: examples)
    func returnsWhatTheHandWrittenQueryReturns(example: Example) async throws {
        let document = try JSONValue(parsing: Array(example.argument.utf8))
        let query = try FilterQuery(parsing: try #require(document["$filter"]))
        let (compiled, handWritten) = try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            return (
                try connection.query(query.sql).map { $0.jsonObject() },
                try connection.query(example.handWritten).map { $0.jsonObject() })
        }
        #expect(compiled.count == example.rowCount)
        #expect(Self.sorted(compiled) == Self.sorted(handWritten))
    }

    @Test(arguments: examples)
    func compilesToTheCheckedInSQL(example: Example) throws {
        let document = try JSONValue(parsing: Array(example.argument.utf8))
        let query = try FilterQuery(parsing: try #require(document["$filter"]))
        expectGolden(query.sql.rendered().text + "\n-- for people:\n" + query.sql.readableText() + "\n", named: "\(example.name).sql")
    }

    @Test func theNewestUnfinishedExampleSkipsVersionsFinishedLater() async throws {
        // Spelled out: express 4.15.2 has an unfinished analysis (2017-04-03) and a finished
        // one started later (2017-04-05), so it is the one unfinished version left out.
        let example = Self.examples[2]
        let query = try FilterQuery(parsing: try #require(try JSONValue(parsing: Array(example.argument.utf8))["$filter"]))
        let versions = try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            return try connection.query(query.sql).map { try $0.decode(String.self, column: "name") + "@" + $0.decode(String.self, column: "version") }
        }
        #expect(Set(versions) == [
            "serve-static@1.7.1", "serve-static@1.10.0", "junit:junit@4.11", "com.google.guava:guava@19.0",
            "requests@2.13.0", "flask@0.12", "flask@1.0",
        ])
    }

    static func sorted(_ rows: [JSONObject]) -> [String] {
        rows.map { JSONValue.object($0).serialized() }.sorted()
    }
}
