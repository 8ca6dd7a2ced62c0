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
    var controls: ScheduleControls

    /// - Parameter now: the store's judging time (``JobClock``), never the process clock.
    /// - Throws: ``JobDefinitionError`` for a one-shot in the past or a zero interval.
    init(_ definition: JobDefinition, origin: JobOrigin, now: Timestamp) throws(JobDefinitionError) {
        id = definition.id
        handler = definition.handler.name
        kwargs = .object(definition.kwargs)
        requestedWhen = try definition.requestedWhen(now: now)
        trigger = try definition.trigger(now: now)
        misfireGraceTime = definition.misfireGraceTime
        controls = try definition.controls(now: now)
        let schedule = Schedule(trigger: trigger, controls: controls, jitterKey: Schedule.jitterKey(of: definition.id))
        // A one-shot runs at its time; an interval at its first slot at or after now
        // (APScheduler's rule: a start in the past does not count as missed runs).
        let first: Timestamp? =
            if case .once(let at) = trigger { schedule.firingTime(of: at) } else { schedule.firstSlot(atOrAfter: now) }
        // A schedule whose `end_date` has passed is finished from the start (as APScheduler drops it).
        state = first == nil ? .finished : definition.state
        nextRunTime = state == .running ? first : nil
        self.origin = origin
        policy = definition.policy
    }

    func wakesSchedulers(now: Timestamp) -> Bool { JobStore.writeWakesSchedulers(firingAt: nextRunTime, now: now) }
}
