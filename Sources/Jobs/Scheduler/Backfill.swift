import Chronology
import Scheduling

/// `POST /jobs/{job_id}/backfill`: the slots of a past range, which of them already have a run,
/// and what firing the others did.
public struct Backfill: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var scheduledFor: Timestamp
        /// The status of the run the slot already had; nil when it had none.
        public var existingStatus: RunStatus?
        /// What this call recorded for it; nil on a dry run, or when it already had a run.
        public var outcome: RunOutcome?
    }

    public var slots: [Slot]
    public var dryRun: Bool

    /// The most slots one call covers: a bound on the transaction, and on the answer.
    public static let maximumSlots = 10_000

    /// The overlap decision for each slot to fire, in order, as the job's policy would have made
    /// them had the slots come one after another, each while the ones before were still at work:
    /// `skip` fires the first (unless earlier work is open) and skips the rest; `buffer_one` holds
    /// one more; `cancel_other` would cancel each at once by the next, so only the last fires.
    public static func decisions(for count: Int, policy: OverlapPolicy, busy: Bool, buffered: Bool) -> [OverlapDecision] {
        guard count > 0 else { return [] }
        if policy == .cancelOther {
            return Array(repeating: .skip, count: count - 1) + [busy ? .fireCancellingPrevious : .fire]
        }
        var busy = busy
        var buffered = buffered
        return (0..<count).map { _ in
            let decision = OverlapDecision.decide(policy, busy: busy, buffered: buffered)
            switch decision {
            case .fire, .fireCancellingPrevious: busy = true
            case .buffer: buffered = true
            case .skip: break
            }
            return decision
        }
    }
}
