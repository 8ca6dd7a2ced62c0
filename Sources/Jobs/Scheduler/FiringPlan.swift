import Chronology
import JSON
import Postgres
import Scheduling

/// What one firing writes: its run, the flows it posts, the job's new schedule, and the work
/// to do once that has committed.
struct FiringRecord: Sendable {
    var job: Job
    var slot: Timestamp
    var coalescedSlots: Int64
    var cause: RunCause
    var outcome: RunOutcome
    var error: String?
    /// The error's chain, outermost first, for the failure record.
    var errorTrace: [String] = []
    var flows: [FlowRequest]
    /// Outside work to record with the run, carried out after the commit at least once.
    var delivery: DeliveryRequest?
    var afterCommit: (@Sendable (CommittedFiring) -> Void)?
    /// How the job's schedule moves on; nil for a manual run, which leaves it as it is.
    var schedule: NextSchedule?
    /// The overlap policy said to trash the unclaimed flows of the job's earlier runs first.
    var cancelsPrevious = false
    /// Set when this carries out a buffered firing: its run exists, and is updated.
    var releasing: Int64?

    enum NextSchedule: Sendable {
        case next(Timestamp)
        case finished
    }

    var identity: FiringIdentity { FiringIdentity(jobID: job.id, scheduledFor: slot) }

    var runRow: RunRow {
        RunRow(
            jobID: job.id, scheduledFor: slot, coalescedSlots: coalescedSlots, cause: cause, outcome: outcome,
            flowsPosted: Int64(flows.count), error: error, status: status)
    }

    /// Where the run's work stands when it is recorded: pending while it has flows or a delivery
    /// to wait for.
    var status: RunStatus {
        switch outcome {
        case .succeeded: flows.isEmpty && delivery == nil ? .succeeded : .pending
        case .failed: .failed
        case .missed: .missed
        case .skipped: .skipped
        case .buffered: .buffered
        }
    }

    /// fabric8's failed-job record for a failed firing.
    var failureRecord: FailureRecord? {
        guard outcome == .failed else { return nil }
        return FailureRecord(
            error: error ?? "unknown error", trace: errorTrace, failedJobID: job.id, failedHandler: job.handler, failedKwargs: job.kwargs,
            scheduledFor: slot)
    }
}

/// Turns claimed jobs into records: the misfire rules, then the handler's work. No clock (`now`
/// is the database's, or the test's) and no database but what the work reads through `context`.
enum FiringPlan {
    /// A job the claim found due at `due` (its `next_run_time`), judged at `now`; `overlap` is
    /// what its policy says of a firing now (it applies only if the slot is not missed).
    static func scheduled(
        _ job: Job, due: Timestamp, now: Timestamp, overlap: OverlapDecision = .fire, handlers: HandlerRegistry, context: FiringContext
    ) -> FiringRecord {
        // Due by the claim query, so a firing always exists; a trigger that has none is finished.
        let firing = Firing.evaluate(slots: job.schedule, due: due, grace: job.misfireGraceTime, now: now)
            ?? Firing(action: .miss, slot: due, coalescedSlots: 0, lateness: 0, nextRunTime: nil)
        let schedule: FiringRecord.NextSchedule = firing.nextRunTime.map { .next($0) } ?? .finished
        guard firing.action == .run else {
            return FiringRecord(
                job: job, slot: firing.slot, coalescedSlots: firing.coalescedSlots, cause: .schedule, outcome: .missed,
                error: nil, flows: [], schedule: schedule)
        }
        var record = execute(job, slot: firing.slot, cause: .schedule, overlap: overlap, handlers: handlers, context: context)
        record.coalescedSlots = firing.coalescedSlots
        record.schedule = schedule
        return record
    }

    /// Reads the job's kwargs into its work and fires it for `slot`; a handler that refuses the
    /// stored kwargs or throws makes a failed record with its error.
    /// Under `overlap`, the firing may be skipped or buffered instead (the handler does not run).
    static func execute(
        _ job: Job, slot: Timestamp, cause: RunCause, overlap: OverlapDecision = .fire, handlers: HandlerRegistry, context: FiringContext
    ) -> FiringRecord {
        var record = FiringRecord(
            job: job, slot: slot, coalescedSlots: 0, cause: cause, outcome: .succeeded, error: nil, flows: [], schedule: nil)
        switch overlap {
        case .skip:
            record.outcome = .skipped
            return record
        case .buffer:
            record.outcome = .buffered
            return record
        case .fireCancellingPrevious:
            record.cancelsPrevious = true
        case .fire:
            break
        }
        do {
            let work = try handlers.handler(named: job.handler).work(from: job.kwargs)
            let decision = try work.fire(record.identity, context: context)
            record.flows = decision.flows
            record.delivery = decision.delivery
            record.afterCommit = decision.afterCommit
        } catch {
            record.outcome = .failed
            record.error = "\(error)"
            record.errorTrace = FailureRecord.trace(of: error)
        }
        return record
    }
}

/// A due job whose row cannot be read as a job (a state word or origin this version does not
/// know, kwargs that are not an object): it must not hold up the rest of its batch, nor come
/// due again every time. Its firing is recorded as failed, with a failure record, and the job
/// is paused for an operator to look at.
struct UnreadableJob: Sendable {
    var id: String
    var handler: String
    var kwargs: JSONValue
    var due: Timestamp
    var error: String
    var trace: [String]

    /// Reads what a claimed row surely has; throws only if even that is missing.
    init(_ row: PostgresRow, error: any Error) throws {
        id = try row.decode(String.self, column: "job_id")
        handler = try row.decode(String.self, column: "handler")
        kwargs = try row.decode(JSONValue.self, column: "kwargs")
        due = try row.decode(Timestamp.self, column: "next_run_time")
        self.error = "the stored job cannot be read, so it was paused: \(error)"
        trace = FailureRecord.trace(of: error)
    }

    var runRow: RunRow {
        RunRow(
            jobID: id, scheduledFor: due, coalescedSlots: 0, cause: .schedule, outcome: .failed, flowsPosted: 0, error: error,
            status: .failed)
    }

    var failureRecord: FailureRecord {
        FailureRecord(error: error, trace: trace, failedJobID: id, failedHandler: handler, failedKwargs: kwargs.objectValue ?? ["stored": kwargs], scheduledFor: due)
    }
}
