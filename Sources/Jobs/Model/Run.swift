import Chronology
import JSON

/// One firing of a job: a scheduled time that ran, was missed or skipped, or a manual run.
public struct Run: Sendable, Equatable {
    public var id: Int64
    public var jobID: String
    public var scheduledFor: Timestamp
    /// Earlier scheduled times that coalesced into this firing.
    public var coalescedSlots: Int64
    public var cause: RunCause
    public var outcome: RunOutcome
    public var claimedAt: Timestamp
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var flowsPosted: Int
    public var error: String?

    public var json: JSONValue {
        [
            "id": .int(id),
            "job_id": .string(jobID),
            "scheduled_for": .string(scheduledFor.iso8601),
            "coalesced_slots": .int(coalescedSlots),
            "cause": .string(cause.rawValue),
            "outcome": .string(outcome.rawValue),
            "claimed_at": .string(claimedAt.iso8601),
            "started_at": startedAt.map { .string($0.iso8601) } ?? .null,
            "finished_at": finishedAt.map { .string($0.iso8601) } ?? .null,
            "flows_posted": .int(Int64(flowsPosted)),
            "error": error.map { .string($0) } ?? .null,
        ]
    }
}

public enum RunCause: String, Sendable, CaseIterable {
    /// The trigger said so.
    case schedule
    /// `POST /jobs/{job_id}/run`.
    case manual
}

/// What became of a firing. (A firing whose scheduled time had already fired leaves no run of
/// its own, as that time's run exists; it is counted in `kairos_jobs_skipped_total`.)
public enum RunOutcome: String, Sendable, CaseIterable {
    case succeeded, failed
    /// Later than the misfire grace time allowed: not executed.
    case missed
}
