import Chronology
import Dispatch
import JSON
import Jobs
import Postgres
import TestSupport
import Testing

/// A run follows its flows: pending while any is unclaimed or claimed, then failed, cancelled or
/// succeeded, settled by the verb that ended its last flow.
@Suite struct RunStatusTests {
    /// A job every 10 s from t(0) posting `flows` flows per firing, with extra job keys.
    static func job(_ id: String, flows: Int = 1, _ keys: JSONObject = [:]) -> JSONObject {
        var body = flowJob(id, every: "10s", when: t(0))
        body["kwargs"] = ["flow_name": "work", "flow_arguments": .array((0..<flows).map { ["n": .int(Int64($0))] })]
        for (key, value) in keys { body[key] = value }
        return body
    }

    static func board(_ db: JobsFixture) -> FlowBoard { FlowBoard(pool: db.pool, clock: .test { db.clock.now }) }

    static func claim(_ db: JobsFixture, _ limit: Int = 10) throws -> [FlowBoard.ClaimedFlow] {
        try board(db).claim(worker: "w", flowNames: nil, limit: limit, lease: .seconds(300))
    }

    static func token(_ claimed: FlowBoard.ClaimedFlow) -> LeaseToken { claimed.lease.holder!.token }

    static func run(_ db: JobsFixture, _ jobID: String, at slot: Int64) throws -> Run {
        try #require(try db.runs(of: jobID).first { $0.scheduledFor == t(slot) })
    }

    @Test func aRunIsPendingUntilItsFlowsAreDoneThenSucceeded() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("nightly", flows: 2), now: t(0))
            _ = try db.fireDue(at: t(0))
            var run = try Self.run(db, "nightly", at: 0)
            #expect(run.status == .pending && run.finishedAt == nil && run.flows == [.unclaimed: 2])
            #expect(try db.store.job("nightly")?.lastStatus == .pending)

            let claimed = try Self.claim(db)
            _ = try Self.board(db).act(on: claimed[0].flow.id) { _ in .complete(Self.token(claimed[0]), result: nil) }
            run = try Self.run(db, "nightly", at: 0)
            #expect(run.status == .pending && run.flows == [.claimed: 1, .completed: 1])

            _ = try Self.board(db).completeMany([(claimed[1].flow.id, Self.token(claimed[1]), .null)])
            run = try Self.run(db, "nightly", at: 0)
            // Settled by the call that ended the last flow, not by a sweep.
            #expect(run.status == .succeeded && run.finishedAt != nil && run.flows == [.completed: 2])
            #expect(try db.store.job("nightly")?.lastStatus == .succeeded)
        }
    }

    @Test func anyFailedFlowFailsTheRunAndATrashedOneCancelsIt() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("failing", flows: 2), now: t(0))
            try db.save(Self.job("trashing", flows: 2), now: t(0))
            _ = try db.fireDue(at: t(0))
            let board = Self.board(db)
            for claimed in try Self.claim(db) {
                let token = Self.token(claimed)
                let first = claimed.flow.position == 0
                _ = try board.act(on: claimed.flow.id) { now in
                    switch (claimed.flow.jobID, first) {
                    case ("failing", true): .fail(token, error: "boom", retry: false, now: now, jitter: 0)
                    case ("trashing", true): .trash(token)
                    default: .complete(token, result: nil)
                    }
                }
            }
            #expect(try Self.run(db, "failing", at: 0).status == .failed)
            #expect(try Self.run(db, "trashing", at: 0).status == .cancelled)
        }
    }

    @Test func aFlowRetriedKeepsItsRunPendingAndAMissedSlotIsMissed() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("retrying", ["max_attempts": 2, "retry_delay": "1s"]), now: t(0))
            _ = try db.fireDue(at: t(0))
            let claimed = try #require(try Self.claim(db).first)
            #expect(claimed.lease.maxAttempts == 2 && claimed.lease.retryDelay == .seconds(1))
            _ = try Self.board(db).act(on: claimed.flow.id) { now in .fail(Self.token(claimed), error: "later", retry: true, now: now, jitter: 0) }
            #expect(try Self.run(db, "retrying", at: 0).status == .pending)

            try db.save(flowJob("late", when: t(100), grace: "1s"), now: t(0))
            _ = try db.fireDue(at: t(200))
            #expect(try Self.run(db, "late", at: 100).status == .missed)
            #expect(try db.store.job("late")?.lastStatus == .missed)
        }
    }

    /// Of flows ended at the same moment by different connections, the last to commit settles
    /// the run: no sweep is needed for it to be settled, and it is settled once.
    @Test func flowsEndedAtOnceStillSettleTheirRun() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("wide", flows: 64), now: t(0))
            _ = try db.fireDue(at: t(0))
            let claimed = try Self.claim(db, 64)
            #expect(claimed.count == 64)
            let board = Self.board(db)
            let failures = Arrivals<String>()
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                for item in claimed.enumerated() where item.offset % 8 == worker {
                    do {
                        _ = try board.act(on: item.element.flow.id) { _ in .complete(Self.token(item.element), result: nil) }
                    } catch {
                        failures.append("\(error)")
                    }
                }
            }
            #expect(failures.all.isEmpty)
            let run = try Self.run(db, "wide", at: 0)
            #expect(run.status == .succeeded && run.flows == [.completed: 64])
            #expect(try db.firer.settlePendingRuns() == 0)
        }
    }

    /// A run whose last flow ended without its run being settled (the process died between the
    /// two) is settled by the scheduler's sweep.
    @Test func theSweepSettlesARunNobodySettled() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("orphan"), now: t(0))
            _ = try db.fireDue(at: t(0))
            _ = try db.pool.withConnection { try $0.execute("UPDATE flows SET state = 'failed' WHERE job_id = 'orphan'") }
            #expect(try Self.run(db, "orphan", at: 0).status == .pending)
            #expect(try db.firer.settlePendingRuns() == 1)
            #expect(try Self.run(db, "orphan", at: 0).status == .failed)
        }
    }

    /// The sweep goes in bounded steps, by job and scheduled time, from where the last one
    /// stopped: each step judges at most its share of the pending runs, however many are open,
    /// and the orphans past the first step are settled by the steps after it.
    @Test func theSweepStepsThroughThePendingRunsAFewAtATime() async throws {
        try await JobsFixture.with { db in
            for id in ["a", "b", "c", "d", "e"] { try db.save(Self.job(id), now: t(0)) }
            _ = try db.fireDue(at: t(0))
            // b's and e's last flows ended in a process that died before settling their runs.
            _ = try db.pool.withConnection { try $0.execute("UPDATE flows SET state = 'completed' WHERE job_id IN ('b', 'e')") }
            let first = try db.firer.settleSweepStep(after: nil, examining: 2)
            #expect(first == JobFirer.SettleSweepStep(settled: 1, examined: 2, cursor: FiringIdentity(jobID: "b", scheduledFor: t(0))))
            #expect(try Self.run(db, "b", at: 0).status == .succeeded)
            #expect(try Self.run(db, "e", at: 0).status == .pending)
            let second = try db.firer.settleSweepStep(after: first.cursor, examining: 2)
            #expect(second == JobFirer.SettleSweepStep(settled: 0, examined: 2, cursor: FiringIdentity(jobID: "d", scheduledFor: t(0))))
            // The last step reaches the end: the next starts over.
            let third = try db.firer.settleSweepStep(after: second.cursor, examining: 2)
            #expect(third == JobFirer.SettleSweepStep(settled: 1, examined: 1, cursor: nil))
            #expect(try Self.run(db, "e", at: 0).status == .succeeded)
            // From the first again: b and e are settled, so only a, c and d are pending.
            #expect(try db.firer.settleSweepStep(after: nil, examining: 10) == JobFirer.SettleSweepStep(settled: 0, examined: 3, cursor: nil))
            #expect(try db.firer.settlePendingRuns(examining: 1) == 0)
        }
    }

    /// A flow whose leases keep running out is failed by the claim that sweeps it, and that
    /// claim settles its run.
    @Test func aRunWhoseFlowIsFailedByLostLeasesIsFailed() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("deadly"), now: t(0))
            _ = try db.fireDue(at: t(0))
            var claims = 0
            for round in 1...10 where try Self.run(db, "deadly", at: 0).status == .pending {
                db.clock.now = t(Int64(round) * 1000)
                claims += try Self.claim(db).count
            }
            #expect(try Self.run(db, "deadly", at: 0).status == .failed)
            #expect(claims == 1 + FlowLease.lostLeasesForgiven)
        }
    }

    @Test func aJobsPriorityAndAttemptsGoWithEveryFlowItPosts() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("urgent", ["priority": "very_high", "max_attempts": 5, "retry_delay": "2m"]), now: t(0))
            try db.save(Self.job("whenever", ["priority": "very_low"]), now: t(0))
            _ = try db.fireDue(at: t(0))
            let order = try Self.claim(db).map(\.flow.jobID)
            #expect(order == ["urgent", "whenever"])
            #expect(try db.count("SELECT count(*) FROM flows WHERE job_id = 'urgent' AND priority = 0 AND max_attempts = 5 AND retry_delay_us = 120000000") == 1)
            let job = try #require(try db.store.job("urgent"))
            #expect(job.policy == WorkPolicy(priority: .veryHigh, maxAttempts: 5, retryDelay: .seconds(120)))
        }
    }
}
