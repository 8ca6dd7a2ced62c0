import Chronology
import Foundation
import Jobs
import Logging
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// `KAIROS_RETAIN`: what the sweep deletes, what it never deletes, and how it goes about it.
@Suite struct RetentionTests {
    static let day: Int64 = 86_400_000_000
    static let retain = Duration.seconds(30 * 86_400)

    private static func sweeper(_ db: JobsFixture, batchSize: Int = 2_000, onBatch: @escaping @Sendable (String, Int) -> Void = { _, _ in }) -> RetentionSweeper {
        var logger = Logger(label: "test.retention")
        logger.logLevel = .critical
        return RetentionSweeper(
            pool: db.pool, clock: .test { db.clock.now },
            configuration: RetentionSweeper.Configuration(retain: retain, batchSize: batchSize, interval: .seconds(3600), pauseBetweenBatches: .zero),
            logger: logger, onBatch: onBatch)
    }

    /// A job to hang runs on, and a run of it at `slot` in `status`, ended at `finishedAt`.
    private static func run(_ db: JobsFixture, slot: Timestamp, status: String, finishedAt: Timestamp?) throws -> Int64 {
        try db.pool.withConnection { connection in
            try connection.query("""
                INSERT INTO runs (job_id, scheduled_for, cause, outcome, claimed_at, status, finished_at)
                VALUES ('keeper', \(slot), 'schedule', \(status == "buffered" ? "buffered" : "succeeded"), \(slot), \(status), \(finishedAt))
                RETURNING id
                """)[0].decode(Int64.self, column: "id")
        }
    }

    private static func flow(_ db: JobsFixture, position: Int, state: String, createdAt: Timestamp) throws {
        let claimed = state == "claimed"
        try db.pool.withConnection { connection in
            _ = try connection.execute("""
                INSERT INTO flows (flow_name, arguments, job_id, scheduled_for, position, created_at, state, holder, lease_token, lease_expires_at, lease_us)
                VALUES ('f', '{}', 'keeper', \(createdAt), \(Int32(position)), \(createdAt), \(state),
                        \(claimed ? "worker" : nil), \(claimed ? "token" : nil), \(claimed ? createdAt : nil), \(claimed ? Int64(1_000_000) : nil))
                """)
        }
    }

    private static func failureRecord(_ db: JobsFixture, id: String, createdAt: Timestamp) throws {
        try db.pool.withConnection { connection in
            _ = try connection.execute("""
                INSERT INTO jobs (job_id, handler, kwargs, start_at, state, origin, created_at)
                VALUES (\(id), 'ErrorHandler', '{}', \(createdAt), 'paused', 'failure', \(createdAt))
                """)
        }
    }

    private static func count(_ db: JobsFixture, _ sql: SQL) throws -> Int {
        try db.pool.withConnection { try $0.query(sql)[0].decode(Int.self, column: "n") }
    }

    @Test func rowsPastTheRetentionGoAndEverythingElseStays() async throws {
        try await JobsFixture.with { db in
            let now = db.clock.now
            let old = now - 31 * Self.day
            let young = now - 29 * Self.day
            try db.save(["job_id": "keeper", "handler": "FlowScheduling", "periodically": "1 day", "kwargs": ["flow_name": "f"]], now: now)
            let oldRun = try Self.run(db, slot: old - Self.day, status: "succeeded", finishedAt: old)
            _ = try Self.run(db, slot: old - 2 * Self.day, status: "failed", finishedAt: old)
            _ = try Self.run(db, slot: young - Self.day, status: "succeeded", finishedAt: young)
            // Ended just inside the period: kept.
            _ = try Self.run(db, slot: now - 40 * Self.day, status: "cancelled", finishedAt: now - 30 * Self.day + 1)
            // Old, but not over: kept whatever their age.
            _ = try Self.run(db, slot: now - 90 * Self.day, status: "pending", finishedAt: nil)
            _ = try Self.run(db, slot: now - 91 * Self.day, status: "buffered", finishedAt: nil)
            // A delivery of the old run goes with it.
            try db.pool.withConnection { connection in
                _ = try connection.execute("""
                    INSERT INTO deliveries (run_id, job_id, scheduled_for, state, request, max_attempts)
                    VALUES (\(oldRun), 'keeper', \(old - Self.day), 'succeeded', '{}', 1)
                    """)
            }
            for (position, state) in ["completed", "failed", "trashed"].enumerated() {
                try Self.flow(db, position: position, state: state, createdAt: old)
            }
            try Self.flow(db, position: 10, state: "unclaimed", createdAt: old)
            try Self.flow(db, position: 11, state: "claimed", createdAt: old)
            try Self.flow(db, position: 12, state: "completed", createdAt: young)
            try Self.failureRecord(db, id: "failed-old", createdAt: old)
            try Self.failureRecord(db, id: "failed-young", createdAt: young)

            let deleted = try Self.sweeper(db).sweep()
            #expect(deleted == ["runs": 2, "flows": 3, "failure_records": 1])
            #expect(try Self.count(db, "SELECT count(*) AS n FROM runs") == 4)
            #expect(try Self.count(db, "SELECT count(*) AS n FROM runs WHERE status IN ('pending', 'buffered')") == 2)
            #expect(try Self.count(db, "SELECT count(*) AS n FROM deliveries") == 0)
            #expect(try Self.count(db, "SELECT count(*) AS n FROM flows") == 3)
            #expect(try Self.count(db, "SELECT count(*) AS n FROM flows WHERE state IN ('unclaimed', 'claimed')") == 2)
            #expect(try db.store.jobs(.failed).map(\.id) == ["failed-young"])
            #expect(try db.store.job("keeper") != nil)
            // Nothing more to do: a second sweep deletes nothing.
            #expect(try Self.sweeper(db).sweep() == ["runs": 0, "flows": 0, "failure_records": 0])
        }
    }

    @Test func aBacklogGoesInBatchesOfTheConfiguredSize() async throws {
        try await JobsFixture.with { db in
            let now = db.clock.now
            try db.save(["job_id": "keeper", "handler": "FlowScheduling", "periodically": "1 day", "kwargs": ["flow_name": "f"]], now: now)
            for index in 0..<10 {
                _ = try Self.run(db, slot: now - Int64(40 + index) * Self.day, status: "succeeded", finishedAt: now - 35 * Self.day)
            }
            let batches = LockedBox<[Int]>([])
            let deleted = try Self.sweeper(db, batchSize: 3) { kind, count in if kind == "runs" { batches.update { $0.append(count) } } }.sweep()
            #expect(deleted["runs"] == 10)
            #expect(batches.get() == [3, 3, 3, 1])
            #expect(try Self.count(db, "SELECT count(*) AS n FROM runs") == 0)
        }
    }

    /// A sweep deletes for at most its busy share of the time: after a batch, it rests three
    /// times as long by default, and never less than the configured pause.
    @Test func aSweepRestsInProportionToItsBatches() {
        let gentle = RetentionSweeper.Configuration(pauseBetweenBatches: .milliseconds(10))
        #expect(gentle.busyShare == 0.25)
        #expect(gentle.pause(after: .milliseconds(40)) == .milliseconds(120))
        #expect(gentle.pause(after: .milliseconds(1)) == .milliseconds(10))
        #expect(gentle.pause(after: .zero) == .milliseconds(10))
        let eager = RetentionSweeper.Configuration(pauseBetweenBatches: .zero, busyShare: 1)
        #expect(eager.pause(after: .seconds(3)) == .zero)
        let tenth = RetentionSweeper.Configuration(pauseBetweenBatches: .zero, busyShare: 0.1)
        let rest = tenth.pause(after: .milliseconds(10))  // 0.9 / 0.1 is not exactly 9 in binary
        #expect(rest > .microseconds(89_999) && rest < .microseconds(90_001))
    }

    @Test func sweepersOnSeveralReplicasDeleteEachRowOnce() async throws {
        try await JobsFixture.with { db in
            let now = db.clock.now
            try db.save(["job_id": "keeper", "handler": "FlowScheduling", "periodically": "1 day", "kwargs": ["flow_name": "f"]], now: now)
            try db.pool.withConnection { connection in
                _ = try connection.execute("""
                    INSERT INTO runs (job_id, scheduled_for, cause, outcome, claimed_at, status, finished_at)
                    SELECT 'keeper', \(now - 400 * Self.day) + n * interval '1 second', 'schedule', 'succeeded', \(now), 'succeeded', \(now - 31 * Self.day)
                    FROM generate_series(1, 5000) AS n
                    """)
            }
            let totals = LockedBox<[Int]>([])
            let failures = LockedBox<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 3) { _ in
                do {
                    let deleted = try Self.sweeper(db, batchSize: 100).sweep()
                    totals.update { $0.append(deleted["runs"] ?? 0) }
                } catch {
                    failures.update { $0.append("\(error)") }
                }
            }
            #expect(failures.get().isEmpty)
            #expect(totals.get().reduce(0, +) == 5000)
            #expect(try Self.count(db, "SELECT count(*) AS n FROM runs") == 0)
        }
    }

    @Test func theSweepingThreadSweepsAtOnceAndStopsPromptly() async throws {
        try await JobsFixture.with { db in
            let now = db.clock.now
            try Self.failureRecord(db, id: "failed-old", createdAt: now - 31 * Self.day)
            let swept = LockedBox(0)
            let sweeper = Self.sweeper(db) { _, count in swept.update { $0 += count } }
            sweeper.start()
            let deadline = Date().addingTimeInterval(10)
            while swept.get() == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(swept.get() == 1)
            // The next sweep is an hour away; stopping does not wait for it.
            let stopping = ContinuousClock.now
            sweeper.stop()
            #expect(ContinuousClock.now - stopping < .seconds(1))
        }
    }
}
