import Chronology
import Foundation
import JSON
import Jobs
import Logging
import Postgres
import TestSupport
import Testing

@Suite struct SchedulerLoopTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.scheduler")
        logger.logLevel = .error
        return logger
    }()

    /// Several schedulers, each with its own pool as separate processes would have, fire 1,000
    /// jobs on 1-second intervals through 20 seconds of their clock, all racing for every slot:
    /// every (job, slot) runs exactly once. The clock is a test's, moved on a second at a time
    /// once the database shows the previous second fired, so no test time is spent sleeping.
    @Test(arguments: [2, 3])
    func schedulersOnOneDatabaseFireEachSlotOnce(schedulers count: Int) async throws {
        try await JobsFixture.with { db in
            let definitions = try (0..<1000).map { index in
                try JobDefinition.parse(flowJob("j\(index)", every: "1s", when: t(1)), handlers: .standard)
            }
            #expect(db.store.registerDefaults(definitions).allSatisfy { (try? $0.get()) == .created })

            let clock = JobClock.test { db.clock.now }
            let pools = (0..<count).map { _ in PostgresPool(db.pool.configuration, maximumConnections: 2) }
            let schedulers = pools.map {
                Scheduler(firer: JobFirer(pool: $0, clock: clock, logger: Self.logger), configuration: .init(maximumSleep: .seconds(1)), logger: Self.logger)
            }
            for scheduler in schedulers { try scheduler.start() }
            for second in 1...20 {
                db.clock.now = t(Int64(second))
                for scheduler in schedulers { scheduler.wake() }
                let fired = eventually(timeout: 60) { (try? db.count("SELECT count(*) FROM runs")) == 1000 * second }
                #expect(fired, "second \(second): \((try? db.count("SELECT count(*) FROM runs")) ?? -1) runs")
                if !fired { break }
            }
            for scheduler in schedulers { scheduler.stop() }
            for pool in pools { pool.close() }

            // Each job ran at each of the 20 seconds exactly once, posting one flow each time.
            let rows = try db.pool.withConnection { connection in
                try connection.query("""
                    SELECT job_id, count(*) AS runs, count(DISTINCT scheduled_for) AS distinct_slots,
                           count(*) FILTER (WHERE outcome = 'succeeded' AND coalesced_slots = 0) AS succeeded
                    FROM runs GROUP BY job_id
                    """)
            }
            #expect(rows.count == 1000)
            for row in rows {
                #expect(try row.decode(Int.self, column: "runs") == 20)
                #expect(try row.decode(Int.self, column: "distinct_slots") == 20)
                #expect(try row.decode(Int.self, column: "succeeded") == 20)
            }
            #expect(try db.count("SELECT count(*) FROM flows") == 20_000)
            #expect(try db.count("SELECT count(*) FROM (SELECT DISTINCT job_id, scheduled_for FROM flows) f") == 20_000)
        }
    }

    /// More than a batch due at once is fired by the loop and its helper lane together, in
    /// transactions of their own that split the jobs between them: each job fires once.
    @Test func aBurstIsSharedByTheFiringLanesAndEachSlotFiresOnce() async throws {
        try await JobsFixture.with { db in
            let definitions = try (0..<400).map { try JobDefinition.parse(flowJob("b\($0)", when: t(1)), handlers: .standard) }
            #expect(db.store.registerDefaults(definitions).allSatisfy { (try? $0.get()) == .created })
            let clock = JobClock.test { db.clock.now }
            let pool = PostgresPool(db.pool.configuration, maximumConnections: 3)
            defer { pool.close() }
            let firingThreads = LockedBox<Set<UInt>>([])
            let scheduler = Scheduler(
                firer: JobFirer(pool: pool, clock: clock, logger: Self.logger),
                configuration: .init(batchSize: 20, maximumSleep: .seconds(1), firingLanes: 2), logger: Self.logger,
                onEvent: { event in
                    if case .batch(let report) = event, report.claimed > 0 { firingThreads.update { _ = $0.insert(UInt(pthread_self())) } }
                })
            try scheduler.start()
            db.clock.now = t(1)
            scheduler.wake()
            #expect(eventually(timeout: 60) { (try? db.count("SELECT count(*) FROM runs")) == 400 })
            scheduler.stop()
            #expect(firingThreads.get().count == 2)
            #expect(try db.count("SELECT count(DISTINCT job_id) FROM runs WHERE outcome = 'succeeded'") == 400)
            #expect(try db.count("SELECT count(*) FROM flows") == 400)
        }
    }

    @Test func aChangeWakesTheSleepingSchedulerThroughNotify() async throws {
        try await JobsFixture.with { db in
            let events = Arrivals<Scheduler.Event>()
            // It would sleep its longest with nothing due: only the NOTIFY can wake it sooner.
            let scheduler = Scheduler(
                firer: db.firer, configuration: .init(maximumSleep: Scheduler.longestSleep), logger: Self.logger,
                onEvent: { events.append($0) })
            try scheduler.start()
            defer { scheduler.stop() }
            // Listening, then asleep: from here only a notification can make it look again.
            #expect(events.waitForAll(timeout: 60) { all in
                guard let listening = all.firstIndex(where: { if case .listening = $0 { true } else { false } }) else { return false }
                return all[listening...].contains { if case .sleeping(let duration) = $0 { duration == Scheduler.longestSleep } else { false } }
            })
            // Due at once (its time is the clock's now): without the NOTIFY it would not fire for
            // 30 s. The clock does not move, so nothing else can make it due.
            try db.save(flowJob("soon", when: t(0)), now: t(0))
            let stopwatch = Stopwatch()
            let fired = events.wait(timeout: 60) { if case .batch(let report) = $0 { report.succeeded == 1 } else { false } }
            #expect(fired != nil)
            // Well under the 30 s sleep; the bound is loose for a host that stalls (not a benchmark).
            #expect(stopwatch.elapsed < 20)
        }
    }

    /// Writes of jobs due later than the wake horizon send no NOTIFY (a commit-serializing lock in
    /// PostgreSQL), which is safe only because no scheduler sleeps longer than half of it.
    @Test func noSchedulerSleepsPastHalfTheHorizonThatWritesWakeWithin() {
        #expect(Scheduler.longestSleep * 2 <= JobStore.wakeHorizon)
        #expect(Scheduler.Configuration(maximumSleep: .seconds(3600)).maximumSleep == Scheduler.longestSleep)
        var configuration = Scheduler.Configuration(maximumSleep: .seconds(5))
        #expect(configuration.maximumSleep == .seconds(5))
        configuration.maximumSleep = .seconds(31)
        #expect(configuration.maximumSleep == Scheduler.longestSleep)
    }

    @Test(arguments: [
        (nil, false),
        (Int64(-3_600_000_000), true),  // overdue
        (0, true),
        (59_999_999, true),
        (60_000_000, false),  // exactly the horizon away: the scheduler's next look comes first
        (86_400_000_000, false),
    ] as [(Int64?, Bool)])
    func aWriteWakesTheSchedulersOnlyForAJobDueWithinTheHorizon(offset: Int64?, wakes: Bool) {
        let now = t(0)
        #expect(JobStore.writeWakesSchedulers(firingAt: offset.map { now + $0 }, now: now) == wakes)
    }

    @Test func stopLetsTheBatchUnderWayCommit() async throws {
        try await JobsFixture.with { db in
            for index in 0..<50 { try db.save(flowJob("j\(index)", when: t(1)), now: t(0)) }
            db.clock.now = t(1)
            let events = Arrivals<Scheduler.Event>()
            let scheduler = Scheduler(firer: db.firer, logger: Self.logger, onEvent: { events.append($0) })
            try scheduler.start()
            #expect(events.wait(timeout: 60) { if case .batch(let report) = $0 { report.claimed == 50 } else { false } } != nil)
            scheduler.stop()
            #expect(try db.count("SELECT count(*) FROM runs") == 50)
            #expect(try db.count("SELECT count(*) FROM flows") == 50)
        }
    }

    /// Sleeps are judged by the scheduler's clock: a job due in two hours by that clock makes it
    /// sleep its maximum, one due in 250 ms makes it sleep no longer than that.
    @Test func theSleepLastsUntilTheNextDueTimeByItsClock() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("later", when: t(7200)), now: t(0))
            let events = Arrivals<Scheduler.Event>()
            let scheduler = Scheduler(
                firer: db.firer, configuration: .init(maximumSleep: .seconds(30)), logger: Self.logger,
                onEvent: { events.append($0) })
            try scheduler.start()
            defer { scheduler.stop() }
            #expect(events.wait(timeout: 60) { if case .sleeping(let d) = $0 { d == .seconds(30) } else { false } } != nil)
            db.clock.now = t(7200) - 250_000
            scheduler.wake()
            #expect(events.wait(timeout: 60) { if case .sleeping(let d) = $0 { d == .milliseconds(250) } else { false } } != nil)
        }
    }

    /// An unreachable database: each failed look is reported (metrics count them) and retried.
    @Test func failedLooksAreReportedAndRetried() throws {
        var configuration = PostgresConfiguration("host=127.0.0.1 port=1 connect_timeout=2")
        configuration.logger = Self.logger
        let pool = PostgresPool(configuration, maximumConnections: 1)
        defer { pool.close() }
        let events = Arrivals<Scheduler.Event>()
        let scheduler = Scheduler(
            firer: JobFirer(pool: pool, logger: Self.logger), configuration: .init(retryDelay: .milliseconds(50)), logger: Self.logger,
            onEvent: { events.append($0) })
        try scheduler.start()
        defer { scheduler.stop() }
        #expect(events.waitForAll(timeout: 60) { all in all.filter { if case .failed = $0 { true } else { false } }.count >= 2 })
        #expect(!events.all.contains { if case .batch = $0 { true } else { false } })
    }
}
