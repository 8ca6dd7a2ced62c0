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
    /// Where the work stands: it follows the flows the firing posted.
    public var status: RunStatus
    /// The run's flows by state, as they are now.
    public var flows: [FlowState: Int] = [:]
    /// Its outside work (a webhook call) and each attempt; nil for a run that has none.
    public var delivery: JSONObject?

    /// The shape clients see (``writeMembers(into:)``) as a value.
    public var json: JSONValue { .object(jsonObject) }
}

extension Run: JSONObjectRepresentable {
    public func writeMembers(into members: inout some JSONMemberSink) {
        members.member("id", id)
        members.member("job_id", jobID)
        members.member("scheduled_for", scheduledFor.iso8601)
        members.member("coalesced_slots", coalescedSlots)
        members.member("cause", cause.rawValue)
        members.member("outcome", outcome.rawValue)
        members.member("claimed_at", claimedAt.iso8601)
        members.member("started_at", startedAt?.iso8601)
        members.member("finished_at", finishedAt?.iso8601)
        members.member("flows_posted", Int64(flowsPosted))
        members.member("error", error)
        members.member("status", status.rawValue)
        members.member("flows") { counts in
            for state in FlowState.allCases { counts.member(state.rawValue, Int64(flows[state] ?? 0)) }
        }
        members.member("delivery", delivery.map(JSONValue.object) ?? .null)
    }
}

public enum RunCause: String, Sendable, CaseIterable {
    /// The trigger said so.
    case schedule
    /// `POST /jobs/{job_id}/run`.
    case manual
    /// `POST /jobs/{job_id}/backfill`: a past slot fired late, on request.
    case backfill
}

/// Where a run's work stands. A firing that posts flows is `pending` until every flow is final,
/// then `failed` if any failed, else `cancelled` if any was trashed, else `succeeded`; a firing
/// that posts none is final at once.
public enum RunStatus: String, Sendable, CaseIterable {
    case pending, succeeded, failed, cancelled
    /// Later than the misfire grace time allowed: not executed.
    case missed
    /// Not carried out: the job's overlap policy skips a firing while its previous work is not done.
    case skipped
    /// Held by the `buffer_one` policy until the job's previous work ends, then carried out.
    case buffered
}

/// What became of a firing. (A firing whose scheduled time had already fired leaves no run of
/// its own, as that time's run exists; it is counted in `kairos_jobs_skipped_total`.)
public enum RunOutcome: String, Sendable, CaseIterable {
    case succeeded, failed
    /// Later than the misfire grace time allowed: not executed.
    case missed
    /// Not carried out, by the job's overlap policy.
    case skipped
    /// Held by the job's overlap policy, to be carried out later (then its outcome is set).
    case buffered
}
