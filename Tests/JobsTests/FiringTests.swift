import Dispatch
import Chronology
import JSON
import Jobs
import Postgres
import Scheduling
import TestSupport
import Testing

@Suite struct FiringOverDatabaseTests {
    @Test func downThirtyFiveSecondsWithinGraceRunsOnceThenStaysAligned() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "10s", when: t(10), grace: "60s"), now: t(0))
            let report = try db.fireDue(at: t(45))
            #expect(report.succeeded == 1)
            #expect(report.flowsPosted == 1)
            let runs = try db.runs(of: "a")
            #expect(runs.map(\.scheduledFor) == [t(40)])
            #expect(runs.map(\.coalescedSlots) == [3])
            #expect(runs.map(\.outcome) == [.succeeded])
            #expect(try db.store.job("a")?.nextRunTime == t(50))
            // Nothing more until 50, then exactly the slot at 50.
            #expect(try db.fireDue(at: t(49)).claimed == 0)
            #expect(try db.fireDue(at: t(50)).succeeded == 1)
            #expect(try db.runs(of: "a").map(\.scheduledFor) == [t(40), t(50)])
        }
    }

    @Test func downThirtyFiveSecondsBeyondGraceIsMissedAndPostsNothing() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "10s", when: t(10), grace: "5s"), now: t(0))
            let report = try db.fireDue(at: t(46))
            #expect(report.missed == 1)
            #expect(report.flowsPosted == 0)
            let runs = try db.runs(of: "a")
            #expect(runs.map(\.outcome) == [.missed])
            #expect(runs.map(\.scheduledFor) == [t(40)])
            #expect(runs[0].startedAt == nil)
            #expect(try db.count("SELECT count(*) FROM flows") == 0)
            #expect(try db.store.job("a")?.nextRunTime == t(50))
        }
    }

    @Test func oneShotFiresOnceAndLeavesTheActiveListWithItsRunsReadable() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("once", when: t(10), grace: "60s"), now: t(0))
            #expect(try db.fireDue(at: t(30)).succeeded == 1)
            #expect(try db.fireDue(at: t(60)).claimed == 0)
            let job = try #require(try db.store.job("once"))
            #expect(job.state == .finished)
            #expect(job.nextRunTime == nil)
            #expect(try db.store.jobs(.all).isEmpty)
            #expect(try db.store.jobs(.finished).map(\.id) == ["once"])
            #expect(try db.runs(of: "once").map(\.outcome) == [.succeeded])
        }
    }

    @Test func oneShotBeyondGraceIsMissedAndFinished() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("once", when: t(10), grace: "60s"), now: t(0))
            #expect(try db.fireDue(at: t(71)).missed == 1)
            #expect(try db.store.job("once")?.state == .finished)
        }
    }

    @Test func flowsCarryTheFiringIdentityAndEveryArgument() async throws {
        try await JobsFixture.with { db in
            try db.save(
                [
                    "job_id": "fan", "handler": "SelectiveFlowScheduling", "when": .string(t(10).iso8601),
                    "kwargs": [
                        "flow_name": "bayesianFlow", "task_names": ["GithubTask"], "run_subsequent": true,
                        "flow_arguments": [["name": "a"], nil, ["name": "c"]],
                    ],
                ], now: t(0))
            #expect(try db.fireDue(at: t(10)).flowsPosted == 3)
            let (flows, total) = try FlowBoard(pool: db.pool).flows(.init(jobID: "fan"))
            #expect(total == 3)
            #expect(flows.map(\.position) == [0, 1, 2])
            #expect(flows.map(\.arguments) == [["name": "a"], .null, ["name": "c"]])
            #expect(flows.allSatisfy { $0.scheduledFor == t(10) && $0.taskNames == ["GithubTask"] && $0.runSubsequent })
            #expect(flows.allSatisfy { $0.state == .unclaimed && $0.flowName == "bayesianFlow" })
        }
    }

    @Test func aFailingHandlerLeavesAFailedJobRecordAndTheScheduleGoesOn() async throws {
        let handlers = HandlerRegistry([FlowScheduling(), ErrorHandler(), FailingHandler()])
        try await JobsFixture.with(handlers: handlers) { db in
            try db.save(["job_id": "boom", "handler": "Failing", "periodically": "10s", "when": .string(t(10).iso8601), "kwargs": ["x": 1]], now: t(0), handlers: handlers)
            #expect(try db.fireDue(at: t(10)).failed == 1)
            #expect(try db.runs(of: "boom").map(\.outcome) == [.failed])
            #expect(try db.runs(of: "boom").first?.error == "the handler broke")
            let failed = try db.store.jobs(.failed)
            #expect(failed.count == 1)
            #expect(failed.first?.handler == "ErrorHandler")
            #expect(failed.first?.state == .paused)
            #expect(failed.first?.kwargs["failed_job_id"] == "boom")
            #expect(failed.first?.kwargs["failed_handler"] == "Failing")
            #expect(failed.first?.kwargs["failed_kwargs"] == ["x": 1])
            #expect(failed.first?.kwargs["error"] == "the handler broke")
            #expect(try db.store.job("boom")?.nextRunTime == t(20))
            #expect(try db.store.cleanFailed() == [failed[0].id])
            #expect(try db.store.jobs(.failed).isEmpty)
        }
    }

    @Test func pausedServiceFiresNothingAndOnResumeTheMisfireRulesDecide() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "10s", when: t(10), grace: "5s"), now: t(0))
            try db.save(flowJob("b", every: "10s", when: t(10)), now: t(0))
            try db.store.setServiceState(.paused)
            #expect(try db.fireDue(at: t(10)).claimed == 0)
            #expect(try db.store.job("a")?.nextRunTime == t(10))  // kept while paused
            try db.store.setServiceState(.running)
            // Resumed three intervals later: a (grace 5 s) is missed, b (no grace) runs once.
            let report = try db.fireDue(at: t(46))
            #expect(report.missed == 1)
            #expect(report.succeeded == 1)
            #expect(try db.runs(of: "b").map(\.coalescedSlots) == [3])
        }
    }

    @Test func pausedJobResumesAtFirstSlotAfterNowWithoutReplay() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "10s", when: t(10)), now: t(0))
            #expect(try db.setState(of: "a", to: .paused, at: t(5))?.nextRunTime == nil)
            #expect(try db.fireDue(at: t(42)).claimed == 0)
            #expect(try db.setState(of: "a", to: .running, at: t(42))?.nextRunTime == t(50))
            #expect(try db.fireDue(at: t(42)).claimed == 0)
            #expect(try db.setState(of: "nobody", to: .paused, at: t(42)) == nil)
        }
    }

    @Test func runNowFiresOnceAndLeavesTheScheduleAlone() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "1 day", when: t(86_400)), now: t(0))
            let run = try #require(try db.runNow("a", at: t(7)))
            #expect(run.cause == .manual)
            #expect(run.outcome == .succeeded)
            #expect(run.flowsPosted == 1)
            #expect(try db.store.job("a")?.nextRunTime == t(86_400))
            #expect(try db.runNow("nobody", at: t(7)) == nil)
        }
    }

    @Test func aScheduledTimeThatAlreadyFiredIsSkippedAndPostsNothingAgain() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "10s", when: t(10)), now: t(0))
            // Run by hand at the very instant of its next slot: that firing identity is taken.
            #expect(try db.runNow("a", at: t(10))?.cause == .manual)
            let report = try db.fireDue(at: t(10))
            #expect(report.claimed == 1)
            #expect(report.skipped == 1)
            #expect(report.succeeded == 0 && report.missed == 0 && report.flowsPosted == 0)
            #expect(try db.runs(of: "a").map(\.cause) == [.manual])
            #expect(try db.count("SELECT count(*) FROM flows") == 1)
            // The schedule moves on all the same.
            #expect(try db.store.job("a")?.nextRunTime == t(20))
            #expect(try db.fireDue(at: t(20)).succeeded == 1)
        }
    }

    /// A run's times are the database's real ones: started before the first flow was written,
    /// finished after the last, however long posting took.
    @Test func aRunsTimesBracketTheFlowsItPosted() async throws {
        try await JobsFixture.with { db in
            let arguments = JSONValue.array((0..<5000).map { .int(Int64($0)) })
            try db.save(["job_id": "big", "handler": "FlowScheduling", "when": .string(t(100).iso8601),
                         "kwargs": ["flow_name": "f", "flow_arguments": arguments]], now: t(0))
            let run = try #require(try db.runNow("big", at: t(5)))
            #expect(run.flowsPosted == 5000)
            let bounds = try db.pool.withConnection { connection in
                try connection.query("SELECT min(created_at) AS first, max(created_at) AS last FROM flows WHERE job_id = 'big'")[0]
            }
            let first = try bounds.decode(Timestamp.self, column: "first")
            let last = try bounds.decode(Timestamp.self, column: "last")
            let started = try #require(run.startedAt)
            // Its work is not done until its flows are: pending, no finish yet.
            #expect(run.status == .pending && run.finishedAt == nil)
            _ = try db.pool.withConnection { try $0.execute("UPDATE flows SET state = 'completed' WHERE job_id = 'big'") }
            #expect(try db.firer.settlePendingRuns() == 1)
            let settled = try #require(try db.store.runs(of: "big", limit: 1, offset: 0).runs.first)
            #expect(settled.status == .succeeded && settled.flows == [.completed: 5000])
            let finished = try #require(settled.finishedAt)
            #expect(started <= first, "started \(started.iso8601), first flow \(first.iso8601)")
            #expect(finished >= last, "finished \(finished.iso8601), last flow \(last.iso8601)")
            // Judged by the test clock, as every decision is.
            #expect(run.claimedAt == t(5) && run.scheduledFor == t(5))
        }
    }

    @Test func restartAfterDowntimeAccountsForEverySlotOnce() async throws {
        try await JobsFixture.with { db in
            // Three jobs due while "the process was down" from 0 to 95.
            try db.save(flowJob("tight", every: "10s", when: t(10), grace: "2s"), now: t(0))
            try db.save(flowJob("loose", every: "10s", when: t(10), grace: "1 hour"), now: t(0))
            try db.save(flowJob("once", when: t(30), grace: "1s"), now: t(0))
            _ = try db.fireDue(at: t(5))  // up, nothing due
            // Down; back at 95, a first process fires; a second "restart" at 95 finds nothing.
            _ = try db.fireDue(at: t(95))
            #expect(try db.fireDue(at: t(95)).claimed == 0)
            _ = try db.fireDue(at: t(100))
            for (job, lastSlot) in [("tight", Int64(100)), ("loose", 100)] {
                let runs = try db.runs(of: job)
                // Slots 10, 20, ..., 100: each one ran, was missed or coalesced, exactly once.
                #expect(runs.reduce(0) { $0 + 1 + $1.coalescedSlots } == lastSlot / 10)
                #expect(Set(runs.map(\.scheduledFor)).count == runs.count)
            }
            #expect(try db.runs(of: "tight").map(\.outcome) == [.missed, .succeeded])
            #expect(try db.runs(of: "loose").map(\.outcome) == [.succeeded, .succeeded])
            #expect(try db.runs(of: "once").map(\.outcome) == [.missed])
        }
    }

    @Test func concurrentFirersClaimEachJobOnce() async throws {
        try await JobsFixture.with { db in
            for index in 0..<300 { try db.save(flowJob("j\(index)", when: t(10)), now: t(0)) }
            let claimed = LockedBox(0)
            let group = DispatchGroup()
            for _ in 0..<4 {
                DispatchQueue.global().async(group: group) {
                    while let report = try? db.fireDue(at: t(10), limit: 50), report.claimed > 0 {
                        claimed.update { $0 += report.claimed }
                    }
                }
            }
            group.wait()
            #expect(claimed.get() == 300)
            #expect(try db.count("SELECT count(*) FROM runs") == 300)
            #expect(try db.count("SELECT count(*) FROM flows") == 300)
        }
    }
}

/// A handler that always throws, to see what a failure leaves behind.
struct FailingHandler: JobHandler {
    let name = "Failing"
    let slug = "failing"
    struct Broke: Error, CustomStringConvertible { var description: String { "the handler broke" } }
    func work(from kwargs: JSONObject) throws(KwargsError) -> any JobWork { Work() }

    struct Work: JobWork {
        func fire(_ firing: FiringIdentity, context: FiringContext) throws -> FiringDecision { throw Broke() }
    }
}
