import Chronology
import JSON
import Scheduling

/// A job row about to be inserted or replaced, with its schedule computed from `now`.
struct JobWrite: Sendable {
    var id: String
    var handler: String
    var kwargs: JSONValue
    var requestedWhen: Timestamp?
    var trigger: Trigger
    var misfireGraceTime: Period?
    var state: JobState
    var nextRunTime: Timestamp?
    var origin: JobOrigin
    var policy: WorkPolicy

    /// - Parameter now: the store's judging time (``JobClock``), never the process clock.
    /// - Throws: ``JobDefinitionError`` for a one-shot in the past or a zero interval.
    init(_ definition: JobDefinition, origin: JobOrigin, now: Timestamp) throws(JobDefinitionError) {
        id = definition.id
        handler = definition.handler.name
        kwargs = .object(definition.kwargs)
        requestedWhen = try definition.requestedWhen(now: now)
        trigger = try definition.trigger(now: now)
        misfireGraceTime = definition.misfireGraceTime
        state = definition.state
        // A one-shot runs at its time; an interval at its first slot at or after now
        // (APScheduler's rule: a start in the past does not count as missed runs).
        nextRunTime = definition.state == .running ? trigger.firstSlot(atOrAfter: now) ?? trigger.start : nil
        self.origin = origin
        policy = definition.policy
    }
}
