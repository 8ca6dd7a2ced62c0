import Chronology
import Dispatch
import JSON
import Jobs
import Postgres
import Synchronization
import TestSupport
import Testing

/// The handler seam: a firing decided inside its claim transaction, then work after the commit.
@Suite struct AfterCommitTests {
    /// A handler whose after-commit stage reports the committed firing, and reads its run over
    /// a connection of its own: it can only see it if the claim's transaction has committed.
    struct Reporting: JobHandler {
        let name = "Reporting"
        let slug = "reporting"
        let seen: Arrivals<(CommittedFiring, RunOutcome?)>
        let pool: PostgresPool

        func work(from kwargs: JSONObject) throws(KwargsError) -> any JobWork { Work(seen: seen, pool: pool) }

        struct Work: JobWork {
            let seen: Arrivals<(CommittedFiring, RunOutcome?)>
            let pool: PostgresPool

            func fire(_ firing: FiringIdentity, context: FiringContext) throws -> FiringDecision {
                FiringDecision(flows: [FlowRequest(flowName: "f", arguments: .null)]) { committed in
                    let outcome = try? JobStore(pool: pool).runs(of: committed.identity.jobID, limit: 10, offset: 0).runs
                        .first { $0.id == committed.runID }?.outcome
                    seen.append((committed, outcome))
                }
            }
        }
    }

    @Test func afterCommitWorkRunsOnceThePostedRunIsCommittedWithItsIdentity() async throws {
        try await Self.withReportingJob { clock, firer, seen in
            clock.now = t(10)
            #expect(try firer.fireDue().succeeded == 1)
            let first = try #require(seen.wait(timeout: 30) { $0.0.identity.scheduledFor == t(10) })
            #expect(first.0.identity == FiringIdentity(jobID: "r", scheduledFor: t(10)))
            #expect(first.1 == .succeeded, "the run was not visible from another connection")

            // A manual run has its own identity: its slot is the clock's now.
            clock.now = t(13)
            let manual = try #require(try firer.runNow("r"))
            let second = try #require(seen.wait(timeout: 30) { $0.0.runID == manual.id })
            #expect(second.0.identity == FiringIdentity(jobID: "r", scheduledFor: t(13)))
            #expect(firer.afterCommit.waitUntilIdle(timeout: .seconds(30)))
            #expect(seen.all.count == 2)
        }
    }

    @Test func aSkippedFiringHasNoAfterCommitWork() async throws {
        try await Self.withReportingJob { clock, firer, seen in
            // A manual run at the slot's very instant takes the identity; the scheduled firing
            // of that slot then records nothing and must not repeat the outside work.
            clock.now = t(10)
            _ = try firer.runNow("r")
            #expect(try firer.fireDue().skipped == 1)
            #expect(firer.afterCommit.waitUntilIdle(timeout: .seconds(30)))
            #expect(seen.all.count == 1)
        }
    }

    /// A fresh schema with job "r" of handler `Reporting`, every 10 s from t(10), saved at t(0);
    /// `body` gets the test clock, a firer on it and what the after-commit stage has seen.
    static func withReportingJob(
        _ body: @escaping @Sendable (TestClock, JobFirer, Arrivals<(CommittedFiring, RunOutcome?)>) throws -> Void
    ) async throws {
        let seen = Arrivals<(CommittedFiring, RunOutcome?)>()
        try await TestDatabase.withSchema { configuration in
            try await onThread {
                let pool = PostgresPool(configuration, maximumConnections: 4)
                defer { pool.close() }
                try pool.withConnection { _ = try Migrator.migrate(KairosSchema.migrations, on: $0) }
                let handlers = HandlerRegistry([Reporting(seen: seen, pool: pool), ErrorHandler()])
                let clock = TestClock(t(0))
                let definition = try JobDefinition.parse(
                    ["job_id": "r", "handler": "Reporting", "when": .string(t(10).iso8601), "periodically": "10s"], handlers: handlers)
                _ = try JobStore(pool: pool, clock: .test { clock.now }).save(definition, origin: .api)
                try body(clock, JobFirer(pool: pool, handlers: handlers, clock: .test { clock.now }), seen)
            }
        }
    }
}

@Suite struct AfterCommitExecutorTests {
    /// Tasks that block until released, counting how many run at once.
    final class Gate: Sendable {
        private let state = Mutex((running: 0, most: 0, released: false))
        private let condition = DispatchSemaphore(value: 0)

        func enter() {
            state.withLock { $0.running += 1; $0.most = max($0.most, $0.running) }
        }

        func leave() { state.withLock { $0.running -= 1 } }
        var most: Int { state.withLock { $0.most } }
    }

    @Test func atMostConcurrencyTasksRunAtOnceAndTheRestWaitInOrder() {
        let executor = AfterCommitExecutor(concurrency: 3, queueLimit: 100)
        let gate = Gate()
        let release = DispatchSemaphore(value: 0)
        let order = Arrivals<Int>()
        for index in 0..<20 {
            #expect(executor.submit {
                gate.enter()
                order.append(index)
                if index < 3 { release.wait() }
                gate.leave()
            })
        }
        #expect(order.waitForAll(timeout: 30) { $0.count == 3 })
        #expect(executor.load == (running: 3, waiting: 17))
        for _ in 0..<3 { release.signal() }
        #expect(executor.waitUntilIdle(timeout: .seconds(30)))
        #expect(gate.most == 3)
        #expect(order.all.sorted() == Array(0..<20))
        #expect(executor.load == (running: 0, waiting: 0))
    }

    @Test func waitingTasksStartInTheOrderTheyCame() {
        let executor = AfterCommitExecutor(concurrency: 1)
        let order = Arrivals<Int>()
        for index in 0..<50 { executor.submit { order.append(index) } }
        #expect(executor.waitUntilIdle(timeout: .seconds(30)))
        #expect(order.all == Array(0..<50))
    }

    @Test func aFullQueueRefusesTaskAndNeverRunsIt() {
        let executor = AfterCommitExecutor(concurrency: 1, queueLimit: 2)
        let release = DispatchSemaphore(value: 0)
        let ran = Arrivals<Int>()
        #expect(executor.submit { release.wait(); ran.append(0) })
        #expect(executor.submit { ran.append(1) })
        #expect(executor.submit { ran.append(2) })
        // One running, two waiting: the limit.
        #expect(!executor.submit { ran.append(3) })
        release.signal()
        #expect(executor.waitUntilIdle(timeout: .seconds(30)))
        #expect(ran.all.sorted() == [0, 1, 2])
    }
}
