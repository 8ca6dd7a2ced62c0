import ArgumentParser
import JSON
import Chronology
import Foundation
import Jobs
import Logging
import Postgres
import SQLBuilding

/// `kairos-bench burst|steady|boot|filter`: the scheduler's and `$filter`'s benchmarks, on a
/// schema of their own (`kairos_bench`, dropped and recreated), printing numbers. Run by
/// scripts/bench-scheduler.sh and scripts/bench-filter.sh; not part of the service's binary.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kairos-bench",
        abstract: "Benchmarks: burst (10,000 one-shots at one instant), steady (100 jobs every second), boot (1,000 default job files), filter ($filter compiles per second, expanding 10,000 rows), cron (previews, next slots, ten-year misfire decisions; no database).")

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case burst, steady, boot, filter, cron
    }

    @Argument(help: "burst, steady, boot, filter or cron") var scenario: Scenario
    @Option(name: .customLong("database-url"), help: "libpq connection string or postgresql:// URI (env: DATABASE_URL).")
    var databaseURL: String?
    @Option(help: "Jobs in the scenario (burst: 10000, steady: 100, boot: 1000).") var jobs: Int?
    @Option(help: "Seconds the steady scenario runs.") var seconds: Int = 30
    @Option(name: .customLong("cron-share"), help: "burst: the percentage of its jobs that are cron jobs (* * * * * in Europe/Prague) instead of one-shots; given at all, every job is due at a minute's start, so runs with 0 and with 50 compare. steady: the percentage of its firings that come from cron jobs (* * * * * with 59 s of jitter, 60 per 1-second job); the run starts at a minute's start.")
    var cronShare: Int?

    func run() throws {
        // Pure: no database to prepare.
        if scenario == .cron { return try cron() }
        var logger = Logger(label: "kairos-bench")
        logger.logLevel = .error
        var database = PostgresConfiguration(databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "")
        let schema = try SQLIdentifier(validating: "kairos_bench")
        try PostgresConnection.connect(database).executeScript("DROP SCHEMA IF EXISTS \(schema) CASCADE; CREATE SCHEMA \(schema)")
        database.searchPath = [schema]
        let pool = PostgresPool(database, maximumConnections: 8)
        defer { pool.close() }
        let migrationStart = ContinuousClock.now
        try pool.withConnection { _ = try Migrator.migrate(KairosSchema.migrations, on: $0) }
        let migrationTime = ContinuousClock.now - migrationStart
        let store = JobStore(pool: pool)

        switch scenario {
        case .burst: try burst(store, count: jobs ?? 10_000, logger: logger)
        case .steady: try steady(store, count: jobs ?? 100, logger: logger)
        case .boot: try boot(store, count: jobs ?? 1000, migrationTime: migrationTime, logger: logger)
        case .filter: try filter(store, rows: jobs ?? 10_000, logger: logger)
        case .cron: try cron()
        }
    }

    /// `count` FlowScheduling jobs all due at one instant three seconds ahead: one-shots, and
    /// with `--cron-share` that share of cron jobs, all due at the next minute's start.
    private func burst(_ store: JobStore, count: Int, logger: Logger) throws {
        let now = Timestamp(Date())
        var due = now + 3_000_000
        if cronShare != nil { due = Timestamp(secondsSinceEpoch: (due.microsecondsSinceEpoch / 60_000_000 + 1) * 60) }
        let cronJobs = count * min(max(cronShare ?? 0, 0), 100) / 100
        let definitions = try (0..<count).map { index in
            var body: JSONObject = [
                "job_id": .string("burst-\(index)"), "handler": "FlowScheduling", "when": .string(due.iso8601),
                "kwargs": ["flow_name": "bayesianFlow", "flow_arguments": [["ecosystem": "npm", "name": .string("package-\(index)")]]],
            ]
            if index < cronJobs {
                // Its first slot is `due` itself: a cron job's `when` is its earliest start, inclusive.
                body["cron"] = "* * * * *"
                body["timezone"] = "Europe/Prague"
            }
            return try JobDefinition.parse(body, handlers: .standard)
        }
        if cronShare != nil { print("burst: \(cronJobs) of \(count) jobs are cron jobs; due at \(due.iso8601)") }
        _ = store.registerDefaults(definitions)
        let scheduler = Scheduler(firer: JobFirer(pool: store.pool, logger: logger), logger: logger)
        try scheduler.start()
        defer { scheduler.stop() }
        try waitForFlows(store, count: count, timeout: 60)
        let stats = try flowStatistics(store)
        let span = Double(stats.lastCreated - due) / 1e6
        print("burst: \(count) jobs due at one instant")
        print(String(format: "  all flows posted %.3f s after the due time", span))
        print(String(format: "  fires per second: %.0f", Double(count) / span))
        print(stats.latenessLine)
    }

    /// `count` jobs on 1-second intervals for `seconds` seconds. With `--cron-share`, that share
    /// of the load comes from cron jobs instead: `* * * * *` with 59 s of jitter spreads each
    /// minute's firings over the minute, so 60 of them stand in for one 1-second job. Given at
    /// all, the run starts at a minute's start, so runs with 0 and with 50 compare.
    private func steady(_ store: JobStore, count: Int, logger: Logger) throws {
        let now = Timestamp(Date())
        var start = Timestamp(secondsSinceEpoch: now.microsecondsSinceEpoch / 1_000_000 + 2)
        if cronShare != nil { start = Timestamp(secondsSinceEpoch: ((start.microsecondsSinceEpoch - 1) / 60_000_000 + 1) * 60) }
        let cronLoad = count * min(max(cronShare ?? 0, 0), 100) / 100
        let intervalDefinitions = try (0..<(count - cronLoad)).map { index in
            try JobDefinition.parse(
                ["job_id": .string("steady-\(index)"), "handler": "FlowScheduling", "when": .string(start.iso8601), "periodically": "1s",
                 "kwargs": ["flow_name": "heartbeatFlow"]],
                handlers: .standard)
        }
        let cronDefinitions = try (0..<(cronLoad * 60)).map { index in
            try JobDefinition.parse(
                ["job_id": .string("steady-cron-\(index)"), "handler": "FlowScheduling", "when": .string(start.iso8601),
                 "cron": "* * * * *", "timezone": "Europe/Prague", "jitter": "59s", "kwargs": ["flow_name": "heartbeatFlow"]],
                handlers: .standard)
        }
        _ = store.registerDefaults(intervalDefinitions + cronDefinitions)
        if cronShare != nil {
            print("steady: \(count - cronLoad) jobs every second and \(cronDefinitions.count) cron jobs every minute (jitter 59 s); from \(start.iso8601)")
        }
        let scheduler = Scheduler(firer: JobFirer(pool: store.pool, logger: logger), logger: logger)
        try scheduler.start()
        Thread.sleep(until: start.date.addingTimeInterval(Double(seconds) - 0.5))
        scheduler.stop()
        let stats = try flowStatistics(store)
        print("steady: \(count) jobs' worth of firings every second for \(seconds) s: \(stats.count) flows")
        print(stats.latenessLine)
    }

    /// `count` default job files loaded at boot: migrations, the loader, the scheduler's start.
    private func boot(_ store: JobStore, count: Int, migrationTime: Duration, logger: Logger) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-bench-defaults").path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for index in 0..<count {
            try """
            job_id: default-\(index)
            handler: FlowScheduling
            periodically: \(index % 24 + 1) hours
            misfire_grace_time: 30m
            flow_name: bayesianFlow
            flow_arguments:
              - ecosystem: npm
                name: package-\(index)
            """.write(toFile: "\(directory)/job-\(index).yaml", atomically: false, encoding: .utf8)
        }
        for round in ["first boot (all new)", "second boot (all unchanged)"] {
            let started = ContinuousClock.now
            let outcomes = DefaultJobLoader(store: store).load(directory: directory, logger: logger)
            let scheduler = Scheduler(firer: JobFirer(pool: store.pool, logger: logger), logger: logger)
            try scheduler.start()
            let elapsed = ContinuousClock.now - started
            scheduler.stop()
            let failed = outcomes.filter { $0.error != nil }.count
            print("boot, \(round): \(count) default job files loaded (\(failed) failed) and scheduler started in \(format(elapsed))")
        }
        print("  (migrations on an empty schema took \(format(migrationTime)))")
    }

    // MARK: Measuring

    func waitForFlows(_ store: JobStore, count: Int, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let posted = try FlowBoard(pool: store.pool).flows(FlowBoard.Query(limit: 1)).total
            if posted >= count { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ValidationError("not all \(count) flows were posted within \(timeout) s")
    }

    private struct FlowStatistics {
        var count: Int
        var lastCreated: Timestamp
        var p50: Double
        var p99: Double
        var max: Double

        var latenessLine: String {
            String(format: "  lateness (flow created_at - scheduled time): p50 %.1f ms, p99 %.1f ms, max %.1f ms", p50, p99, max)
        }
    }

    private func flowStatistics(_ store: JobStore) throws -> FlowStatistics {
        let row = try store.pool.withConnection { connection in
            try connection.query("""
                SELECT count(*) AS n, max(created_at) AS last_created,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY lateness) AS p50,
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY lateness) AS p99, max(lateness) AS max
                FROM (SELECT created_at, extract(epoch FROM created_at - scheduled_for) * 1000 AS lateness FROM flows) f
                """)[0]
        }
        func number(_ column: String) throws -> Double {
            let value = try row.decode(ColumnText.self, column: column)
            return Double(value.text) ?? .nan
        }
        return FlowStatistics(
            count: try row.decode(Int.self, column: "n"), lastCreated: try row.decode(Timestamp.self, column: "last_created"),
            p50: try number("p50"), p99: try number("p99"), max: try number("max"))
    }

    func format(_ duration: Duration) -> String {
        String(format: "%.0f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
    }
}

/// Any column as its text, for numbers of whatever type an aggregate returns.
private struct ColumnText: PostgresDecodable {
    let text: String
    static func decode(from cell: PostgresCell) throws(PostgresError) -> ColumnText { ColumnText(text: cell.text ?? "nan") }
}
