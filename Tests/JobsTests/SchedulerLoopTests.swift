import Chronology
import Foundation
import JSON
import Jobs
import Logging
import Postgres
import TestSupport
import Testing

@Suite struct SchedulerLoopTests {
    /// Several schedulers, each with its own pool as separate processes would have, fire 1,000
    /// jobs on 1-second intervals for 20 seconds: every (job, slot) is accounted for exactly once.
    @Test(arguments: [2, 3])
    func schedulersOnOneDatabaseFireEachSlotOnce(schedulers count: Int) async throws {
        try await JobsFixture.with { db in
            let start = Timestamp(Date()) + 1_000_000
            let definitions = try (0..<1000).map { index in
                try JobDefinition.parse(flowJob("j\(index)", every: "1s", when: start), handlers: .standard, now: Timestamp(Date()))
            }
            #expect(db.store.registerDefaults(definitions, now: Timestamp(Date())).allSatisfy { (try? $0.get()) == .created })
            // The first slot: `start`, or a later one if registering took longer than a second on
            // a busy machine (slots before registration are not owed, by APScheduler's rule).
            let first = try #require(try db.store.job("j0")?.nextRunTime)

            var logger = Logger(label: "test.scheduler")
            logger.logLevel = .error
            let pools = (0..<count).map { _ in PostgresPool(db.pool.configuration, maximumConnections: 2) }
            let schedulers = pools.map {
                Scheduler(firer: JobFirer(pool: $0, logger: logger), configuration: .init(maximumSleep: .seconds(1)), logger: logger)
            }
            let firing = Stopwatch()
            for scheduler in schedulers { try scheduler.start() }
            Thread.sleep(forTimeInterval: 20)
            // Slots that came due while the host stood still are coalesced into one run each, by
            // the misfire rules: only the seconds the process ran are owed a run apiece.
            let runningSeconds = Int(firing.elapsed)
            for scheduler in schedulers { scheduler.stop() }
            for pool in pools { pool.close() }

            // Per job, the slots from the start to its last firing: each one is a run or was
            // coalesced into one, and no scheduled time appears twice.
            let rows = try db.pool.withConnection { connection in
                try connection.query("""
                    SELECT job_id, count(*) AS runs, count(DISTINCT scheduled_for) AS distinct_slots,
                           sum(1 + coalesced_slots)::bigint AS accounted, max(scheduled_for) AS last,
                           count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded
                    FROM runs GROUP BY job_id
                    """)
            }
            #expect(rows.count == 1000)
            var totalRuns = 0
            var totalSucceeded = 0
            for row in rows {
                let runs = try row.decode(Int.self, column: "runs")
                let last = try row.decode(Timestamp.self, column: "last")
                #expect(try row.decode(Int.self, column: "distinct_slots") == runs)
                #expect(try row.decode(Int64.self, column: "accounted") == (last - first) / 1_000_000 + 1)
                totalRuns += runs
                totalSucceeded += try row.decode(Int.self, column: "succeeded")
            }
            // About 19 seconds of firing each (less five for a busy machine), and never less than
            // one run a job; every successful run posted exactly one flow.
            #expect(totalRuns >= 1000 * max(1, runningSeconds - 5), "\(totalRuns) runs in \(runningSeconds) s")
            #expect(try db.count("SELECT count(*) FROM flows") == totalSucceeded)
            #expect(try db.count("SELECT count(*) FROM (SELECT DISTINCT job_id, scheduled_for FROM flows) f") == totalSucceeded)
        }
    }

    @Test func aChangeWakesTheSleepingSchedulerThroughNotify() async throws {
        try await JobsFixture.with { db in
            var logger = Logger(label: "test.scheduler")
            logger.logLevel = .error
            let batches = Arrivals<JobFirer.Report>()
            // It would sleep an hour with nothing due: only the NOTIFY can wake it in time.
            let scheduler = Scheduler(
                firer: db.firer, configuration: .init(maximumSleep: .seconds(3600)), logger: logger,
                onBatch: { batches.append($0) })
            try scheduler.start()
            defer { scheduler.stop() }
            Thread.sleep(forTimeInterval: 0.5)  // let it reach its sleep (and its listener connect)
            let stopwatch = Stopwatch()
            let now = Timestamp(Date())
            try db.save(flowJob("soon", when: now + 300_000), now: now)
            let report = batches.wait(timeout: 5) { $0.succeeded == 1 }
            #expect(report != nil)
            // Woken for the job's time, not at the end of the hour: far under a second late even on a
            // loaded machine, unless the host froze meanwhile. (How late exactly is the scheduler
            // benchmark's business, not a test's.)
            let allowance = Int64((2 + stopwatch.stalled) * 1_000_000)
            #expect((report?.lateness.first ?? .max) < allowance)
        }
    }

    @Test func stopLetsTheBatchUnderWayCommit() async throws {
        try await JobsFixture.with { db in
            var logger = Logger(label: "test.scheduler")
            logger.logLevel = .error
            let now = Timestamp(Date())
            for index in 0..<50 { try db.save(flowJob("j\(index)", when: now + 1000), now: now) }
            let scheduler = Scheduler(firer: db.firer, logger: logger)
            try scheduler.start()
            #expect(eventually { (try? db.count("SELECT count(*) FROM runs")) == 50 })
            scheduler.stop()
            #expect(try db.count("SELECT count(*) FROM flows") == 50)
        }
    }
}
