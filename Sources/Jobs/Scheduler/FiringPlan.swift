import Chronology
import JSON
import Scheduling

/// A job the scheduler has claimed (row locked) and must fire.
struct ClaimedJob: Sendable {
    var id: String
    var handler: String
    var kwargs: JSONObject
    var trigger: Trigger
    var misfireGraceTime: Period?
    /// Its `next_run_time` when claimed.
    var due: Timestamp
}

/// What one firing writes: its run, the flows it posts, and the job's new schedule.
struct FiringRecord: Sendable {
    var job: ClaimedJob
    var slot: Timestamp
    var coalescedSlots: Int64
    var cause: RunCause
    var outcome: RunOutcome
    var error: String?
    var flows: [FlowRequest]
    /// How the job's schedule moves on; nil for a manual run, which leaves it as it is.
    var schedule: NextSchedule?

    enum NextSchedule: Sendable {
        case next(Timestamp)
        case finished
    }
}

/// Turns claimed jobs into records: the misfire rules, then the handler. No clock (`now` is the
/// database's, or the test's) and no database but what the handler reads through `context`.
enum FiringPlan {
    static func scheduled(_ job: ClaimedJob, now: Timestamp, handlers: HandlerRegistry, context: FiringContext) -> FiringRecord {
        // Due by the claim query, so a firing always exists; a trigger that has none is finished.
        let firing = Firing.evaluate(trigger: job.trigger, due: job.due, grace: job.misfireGraceTime, now: now)
            ?? Firing(action: .miss, slot: job.due, coalescedSlots: 0, lateness: 0, nextRunTime: nil)
        let schedule: FiringRecord.NextSchedule = firing.nextRunTime.map { .next($0) } ?? .finished
        guard firing.action == .run else {
            return FiringRecord(
                job: job, slot: firing.slot, coalescedSlots: firing.coalescedSlots, cause: .schedule, outcome: .missed,
                error: nil, flows: [], schedule: schedule)
        }
        var record = execute(job, slot: firing.slot, cause: .schedule, handlers: handlers, context: context)
        record.coalescedSlots = firing.coalescedSlots
        record.schedule = schedule
        return record
    }

    /// Runs the handler for `slot`; a handler that throws makes a failed record with its error.
    static func execute(
        _ job: ClaimedJob, slot: Timestamp, cause: RunCause, handlers: HandlerRegistry, context: FiringContext
    ) -> FiringRecord {
        var record = FiringRecord(
            job: job, slot: slot, coalescedSlots: 0, cause: cause, outcome: .succeeded, error: nil, flows: [], schedule: nil)
        do {
            record.flows = try handlers.handler(named: job.handler).fire(job.kwargs, context: context)
        } catch {
            record.outcome = .failed
            record.error = "\(error)"
        }
        return record
    }

    /// fabric8's failed-job record for a failed firing: a paused `ErrorHandler` job whose kwargs
    /// say what failed.
    static func failureKwargs(_ record: FiringRecord) -> JSONObject {
        [
            "error": .string(record.error ?? "unknown error"),
            "failed_job_id": .string(record.job.id),
            "failed_handler": .string(record.job.handler),
            "failed_kwargs": .object(record.job.kwargs),
            "scheduled_for": .string(record.slot.iso8601),
        ]
    }
}
