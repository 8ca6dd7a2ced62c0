import Chronology
import Foundation
import JSON
import Jobs
import Postgres
import SQLBuilding
import Scheduling
import TestSupport

/// A migrated schema of its own, with a pool, and a store and a firer judging time by a test
/// clock (starting at ``origin``).
struct JobsFixture: Sendable {
    let pool: PostgresPool
    let clock: TestClock
    let store: JobStore
    let firer: JobFirer

    /// Runs `body` on a thread of its own with a fresh migrated schema, dropped afterwards.
    static func with<T: Sendable>(
        handlers: HandlerRegistry = .standard, connections: Int = 8, _ body: @escaping @Sendable (JobsFixture) throws -> T
    ) async throws -> T {
        try await TestDatabase.withSchema { configuration in
            try await onThread {
                let pool = PostgresPool(configuration, maximumConnections: connections)
                defer { pool.close() }
                try pool.withConnection { _ = try Migrator.migrate(KairosSchema.migrations, on: $0) }
                let clock = TestClock(origin)
                let jobClock = JobClock.test { clock.now }
                return try body(
                    JobsFixture(
                        pool: pool, clock: clock, store: JobStore(pool: pool, clock: jobClock),
                        firer: JobFirer(pool: pool, handlers: handlers, clock: jobClock)))
            }
        }
    }

    /// Saves a job from a JSON body, judged at `now`.
    @discardableResult
    func save(_ body: JSONObject, now: Timestamp, handlers: HandlerRegistry = .standard) throws -> Job {
        clock.now = now
        return try store.save(JobDefinition.parse(body, handlers: handlers), origin: .api).job
    }

    /// Fires what is due at `now`.
    func fireDue(at now: Timestamp, limit: Int = 500) throws -> JobFirer.Report {
        clock.now = now
        return try firer.fireDue(limit: limit)
    }

    func runNow(_ jobID: String, at now: Timestamp) throws -> Run? {
        clock.now = now
        return try firer.runNow(jobID)
    }

    func setState(of jobID: String, to state: JobState, at now: Timestamp) throws -> Job? {
        clock.now = now
        return try store.setState(of: jobID, to: state)
    }

    func runs(of jobID: String) throws -> [Run] {
        try store.runs(of: jobID, limit: 1000, offset: 0).runs.reversed()
    }

    func count(_ sql: SQL) throws -> Int {
        try pool.withConnection { try $0.query(sql)[0].decode(Int.self, at: 0) }
    }
}

/// Seconds after a fixed origin, so scenarios read like their description.
let origin = CivilTime(year: 2026, month: 3, day: 1)!.timestamp
func t(_ seconds: Int64) -> Timestamp { origin + seconds * 1_000_000 }

func flowJob(_ id: String, every period: String? = nil, when: Timestamp? = nil, grace: String? = nil) -> JSONObject {
    var body: JSONObject = [
        "job_id": .string(id), "handler": "FlowScheduling",
        "kwargs": ["flow_name": "bayesianFlow", "flow_arguments": [["ecosystem": "npm", "name": "serve-static"]]],
    ]
    if let period { body["periodically"] = .string(period) }
    if let when { body["when"] = .string(when.iso8601) }
    if let grace { body["misfire_grace_time"] = .string(grace) }
    return body
}
