import Chronology
import JSON
import Jobs
import TestSupport
import Testing

/// What a firing does while its job's previous work is not done, per `overlap`, at the
/// boundary: a firing while the previous run is pending, and one just after it ended.
@Suite struct OverlapTests {
    @Test(arguments: [
        (OverlapPolicy.allowAll, false, false, OverlapDecision.fire), (.allowAll, true, false, .fire), (.allowAll, true, true, .fire),
        (.skip, false, false, .fire), (.skip, true, false, .skip), (.skip, true, true, .skip),
        (.bufferOne, false, false, .fire), (.bufferOne, true, false, .buffer), (.bufferOne, true, true, .skip),
        // The buffered one goes first even once the work it waited for has ended.
        (.bufferOne, false, true, .skip),
        (.cancelOther, false, false, .fire), (.cancelOther, true, false, .fireCancellingPrevious),
        (.cancelOther, true, true, .fireCancellingPrevious),
    ])
    func theDecisionTable(policy: OverlapPolicy, busy: Bool, buffered: Bool, expected: OverlapDecision) {
        #expect(OverlapDecision.decide(policy, busy: busy, buffered: buffered) == expected)
    }

    static func job(_ id: String, overlap: String, flows: Int = 1) -> JSONObject {
        RunStatusTests.job(id, flows: flows, ["overlap": .string(overlap)])
    }

    /// Completes every claimable flow of the board.
    static func completeAll(_ db: JobsFixture) throws {
        let claimed = try RunStatusTests.claim(db, 100)
        _ = try RunStatusTests.board(db).completeMany(claimed.map { ($0.flow.id, RunStatusTests.token($0), .null) })
    }

    static func statuses(_ db: JobsFixture, _ jobID: String) throws -> [RunStatus] {
        try db.runs(of: jobID).map(\.status)
    }

    @Test func skipRecordsAFiringWhileThePreviousRunIsPendingAndFiresOnceItEnded() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("skipper", overlap: "skip"), now: t(0))
            _ = try db.fireDue(at: t(0))
            let report = try db.fireDue(at: t(10))
            #expect(report.overlapped == 1)
            #expect(try Self.statuses(db, "skipper") == [.pending, .skipped])
            #expect(try db.count("SELECT count(*) FROM flows WHERE job_id = 'skipper'") == 1)
            // A manual run follows the policy too.
            #expect(try db.runNow("skipper", at: t(15))?.status == .skipped)
            try Self.completeAll(db)
            // Just after the previous run ended: it fires.
            _ = try db.fireDue(at: t(20))
            #expect(try Self.statuses(db, "skipper") == [.succeeded, .skipped, .skipped, .pending])
        }
    }

    @Test func bufferOneHoldsOneFiringAndCarriesItOutWhenThePreviousRunEnds() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("buffered", overlap: "buffer_one"), now: t(0))
            _ = try db.fireDue(at: t(0))
            _ = try db.fireDue(at: t(10))
            _ = try db.fireDue(at: t(20))
            #expect(try Self.statuses(db, "buffered") == [.pending, .buffered, .skipped])
            // Not while the previous work is under way.
            #expect(try db.firer.releaseBuffered() == 0)
            try Self.completeAll(db)
            #expect(try db.firer.releaseBuffered() == 1)
            #expect(try Self.statuses(db, "buffered") == [.succeeded, .pending, .skipped])
            // Carried out under its own slot's identity: its flow says t(10).
            let flows = try RunStatusTests.board(db).flows(FlowBoard.Query(jobID: "buffered")).flows
            #expect(flows.map(\.scheduledFor) == [t(0), t(10)])
            let released = try RunStatusTests.run(db, "buffered", at: 10)
            #expect(released.outcome == .succeeded && released.flowsPosted == 1 && released.startedAt != nil)
            // Once is enough: a second look carries out nothing more.
            #expect(try db.firer.releaseBuffered() == 0)
            // The released run is pending now, so the next firing is buffered again.
            _ = try db.fireDue(at: t(30))
            #expect(try Self.statuses(db, "buffered") == [.succeeded, .pending, .skipped, .buffered])
        }
    }

    @Test func aBufferedFiringWaitsWhileItsJobIsPaused() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("held", overlap: "buffer_one"), now: t(0))
            _ = try db.fireDue(at: t(0))
            _ = try db.fireDue(at: t(10))
            _ = try db.setState(of: "held", to: .paused, at: t(12))
            try Self.completeAll(db)
            #expect(try db.firer.releaseBuffered() == 0)
            _ = try db.setState(of: "held", to: .running, at: t(13))
            #expect(try db.firer.releaseBuffered() == 1)
        }
    }

    @Test func cancelOtherTrashesThePreviousRunsUnclaimedFlowsAndLeavesClaimedOnes() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("latest", overlap: "cancel_other", flows: 3), now: t(0))
            _ = try db.fireDue(at: t(0))
            let held = try #require(try RunStatusTests.claim(db, 1).first)
            _ = try db.fireDue(at: t(10))
            let previous = try RunStatusTests.run(db, "latest", at: 0)
            #expect(previous.status == .pending && previous.flows == [.claimed: 1, .trashed: 2])
            #expect(try RunStatusTests.run(db, "latest", at: 10).flows == [.unclaimed: 3])
            // The worker holding one finishes it: the previous run is cancelled, not succeeded.
            _ = try RunStatusTests.board(db).act(on: held.flow.id) { _ in .complete(RunStatusTests.token(held), result: nil) }
            #expect(try RunStatusTests.run(db, "latest", at: 0).status == .cancelled)
        }
    }

    @Test func cancelOtherSettlesAPreviousRunLeftWithNothingClaimed() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("replaced", overlap: "cancel_other", flows: 2), now: t(0))
            _ = try db.fireDue(at: t(0))
            _ = try db.fireDue(at: t(10))
            #expect(try Self.statuses(db, "replaced") == [.cancelled, .pending])
        }
    }

    @Test func allowAllFiresWhateverIsPending() async throws {
        try await JobsFixture.with { db in
            try db.save(Self.job("every", overlap: "allow_all"), now: t(0))
            _ = try db.fireDue(at: t(0))
            _ = try db.fireDue(at: t(10))
            #expect(try Self.statuses(db, "every") == [.pending, .pending])
        }
    }
}

@Suite struct BackfillDecisionTests {
    @Test func eachPolicyAsIfTheSlotsCameOneAfterAnother() {
        #expect(Backfill.decisions(for: 3, policy: .allowAll, busy: true, buffered: false) == [.fire, .fire, .fire])
        #expect(Backfill.decisions(for: 3, policy: .skip, busy: false, buffered: false) == [.fire, .skip, .skip])
        #expect(Backfill.decisions(for: 2, policy: .skip, busy: true, buffered: false) == [.skip, .skip])
        #expect(Backfill.decisions(for: 3, policy: .bufferOne, busy: false, buffered: false) == [.fire, .buffer, .skip])
        #expect(Backfill.decisions(for: 2, policy: .bufferOne, busy: true, buffered: true) == [.skip, .skip])
        #expect(Backfill.decisions(for: 3, policy: .cancelOther, busy: false, buffered: false) == [.skip, .skip, .fire])
        #expect(Backfill.decisions(for: 1, policy: .cancelOther, busy: true, buffered: false) == [.fireCancellingPrevious])
        #expect(Backfill.decisions(for: 0, policy: .skip, busy: false, buffered: false).isEmpty)
    }
}
