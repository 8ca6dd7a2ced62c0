import ArgumentParser
import Chronology
import FilterQuery
import Foundation
import JSON
import Jobs
import Logging
import Postgres
import SQLBuilding

/// `kairos bench filter`: how fast `$filter` compiles, and how long expanding one takes.
extension Bench {
    /// fabric8's largest example: three left joins, DISTINCT, and a correlated NOT IN sub-select.
    static let largestFabric8Filter = #"""
        {"joins": [{"on": {"A.version_id": "versions.id"}, "type": "left", "table": "versions"},
                   {"on": {"versions.package_id": "packages.id"}, "type": "left", "table": "packages"},
                   {"on": {"packages.ecosystem_id": "ecosystems.id"}, "type": "left", "table": "ecosystems"}],
         "select": ["versions.identifier as version", "packages.name as name", "ecosystems.name as ecosystem"],
         "table": "analyses AS A", "distinct": true,
         "where": {"A.finished_at is": null,
                   "versions.id not in": {"$filter": {
                       "joins": [{"on": {"analyses.version_id": "versions.id"}, "type": "left", "table": "versions"}],
                       "table": "analyses", "select": "versions.id",
                       "where": {"analyses.finished_at is not": null, "analyses.started_at >": "$A.started_at"}}}}}
        """#

    func filter(_ store: JobStore, rows: Int, logger: Logger) throws {
        try compileRate()
        try expansion(store, rows: rows, logger: logger)
    }

    /// Compiles per second of this thread's CPU time (one core, whatever else the machine runs):
    /// from the parsed JSON document to SQL text and parameters (checking limits, validating
    /// every name), and from the raw bytes. Five rounds of about a second; the median and the
    /// best are printed.
    private func compileRate() throws {
        let bytes = Array(Self.largestFabric8Filter.utf8)
        let document = try JSONValue(parsing: bytes)
        print("filter compile: fabric8's largest example (\(bytes.count) bytes), one thread, 5 rounds of 1 s of CPU time")
        for (label, fromBytes) in [("from a parsed document", false), ("from JSON text", true)] {
            var rates: [Double] = []
            var checksum = 0
            for _ in 0..<5 {
                var count = 0
                let start = Self.threadCPUSeconds()
                while Self.threadCPUSeconds() - start < 1 {
                    for _ in 0..<1000 {
                        let query = try FilterQuery(parsing: fromBytes ? try JSONValue(parsing: bytes) : document)
                        let (text, parameters) = query.sql.rendered()
                        checksum &+= text.utf8.count + parameters.count
                    }
                    count += 1000
                }
                rates.append(Double(count) / (Self.threadCPUSeconds() - start))
            }
            rates.sort()
            print(String(format: "  %@: median %.0f compiles/s (%.2f µs each), best %.0f/s (checksum %d)",
                         label, rates[2], 1e6 / rates[2], rates[4], checksum))
        }
    }

    /// CPU time this thread has used, in seconds.
    private static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// A filter matching `rows` versions, joined to their packages and ecosystems as fabric8's
    /// filters are: the expansion alone (read-only scope, rows to JSON, merged with the extra
    /// keys), then a whole firing that posts one flow per row.
    private func expansion(_ store: JobStore, rows: Int, logger: Logger) throws {
        try store.pool.withConnection { connection in
            try connection.executeScript("""
                CREATE TABLE ecosystems (id integer PRIMARY KEY, name text NOT NULL);
                CREATE TABLE packages (id integer PRIMARY KEY, ecosystem_id integer NOT NULL REFERENCES ecosystems, name text NOT NULL);
                CREATE TABLE versions (id integer PRIMARY KEY, package_id integer NOT NULL REFERENCES packages, identifier text NOT NULL);
                INSERT INTO ecosystems VALUES (1, 'npm'), (2, 'maven'), (3, 'pypi');
                """)
            try connection.execute("""
                INSERT INTO packages SELECT p, 1 + p % 3, 'package-' || p FROM generate_series(1, greatest(1, \(rows) / 10)) p
                """)
            try connection.execute("""
                INSERT INTO versions SELECT v, 1 + v % greatest(1, \(rows) / 10), '1.' || v || '.0' FROM generate_series(1, \(rows)) v
                """)
            try connection.execute("ANALYZE")
        }
        let argument: JSONValue = [
            "$filter": [
                "table": "versions", "select": ["packages.name as name", "versions.identifier as version", "ecosystems.name as ecosystem"],
                "joins": [
                    ["table": "packages", "on": ["versions.package_id": "packages.id"]],
                    ["table": "ecosystems", "on": ["packages.ecosystem_id": "ecosystems.id"]],
                ],
            ],
            "force": true,
        ]
        guard let filter = try FilterArgument(argument, limits: .standard) else { throw ValidationError("the benchmark's argument has no $filter") }
        let expander = FilterExpander(policy: .standard)
        var times: [Duration] = []
        var matched = 0
        for _ in 0..<10 {
            let start = ContinuousClock.now
            var budget = OutputBudget(limit: FilterPolicy.standard.maximumBytes)
            matched = try store.pool.withConnection { try filter.arguments(from: try expander.rows(matching: filter.query, on: $0), budget: &budget).count }
            times.append(ContinuousClock.now - start)
        }
        times.sort()
        print("filter expansion: \(matched) rows (versions ⋈ packages ⋈ ecosystems), 10 runs")
        print("  median \(format(times[times.count / 2])), best \(format(times[0])), worst \(format(times[times.count - 1]))")

        // A whole firing: claim, expand inside the claim's transaction, post every flow, commit.
        let now = Timestamp(Date())
        let definition = try JobDefinition.parse(
            ["job_id": "expand", "handler": "FlowScheduling", "when": .string((now + 1_000_000).iso8601),
             "kwargs": ["flow_name": "bayesianFlow", "flow_arguments": [argument]]],
            handlers: .standard)
        _ = JobStore(pool: store.pool, clock: .test { now }).registerDefaults([definition])
        let firer = JobFirer(pool: store.pool, clock: .test { now + 1_000_000 }, logger: logger)
        let start = ContinuousClock.now
        let report = try firer.fireDue()
        print("filter firing: one job expanding to \(report.flowsPosted) flows, claimed, posted and committed in \(format(ContinuousClock.now - start))")
    }
}
