import Chronology

/// What to do with a job whose `next_run_time` has come, by APScheduler's rules as fabric8
/// configured them (coalescing on): every run time missed since `next_run_time` collapses into
/// the latest one, which runs if it is no later than the grace time allows (or no grace was
/// given) and is otherwise recorded as missed. Computed in O(1), however long the downtime.
public struct Firing: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// Execute the handler for ``Firing/slot``.
        case run
        /// Too late: record ``Firing/slot`` as missed, do not execute.
        case miss
    }

    public let action: Action
    /// The run time this firing stands for: the latest one due.
    public let slot: Timestamp
    /// Earlier run times collapsed into this one (0 when the scheduler was on time).
    public let coalescedSlots: Int64
    /// How late the firing is: `now - slot`, in microseconds.
    public let lateness: Int64
    /// The first run time after `now`; nil when the trigger has no more (a finished one-shot).
    public let nextRunTime: Timestamp?

    public init(action: Action, slot: Timestamp, coalescedSlots: Int64, lateness: Int64, nextRunTime: Timestamp?) {
        self.action = action
        self.slot = slot
        self.coalescedSlots = coalescedSlots
        self.lateness = lateness
        self.nextRunTime = nextRunTime
    }

    /// The firing for a job of `trigger` due at `due`, judged at `now`; nil if it is not due yet.
    ///
    /// `due` is normally a run time of `trigger`; when it is not (a resumed one-shot, say) and
    /// no run time of the trigger lies between it and `now`, `due` itself is the slot.
    public static func evaluate(trigger: Trigger, due: Timestamp, grace: Period?, now: Timestamp) -> Firing? {
        evaluate(slots: trigger, due: due, grace: grace, now: now)
    }

    /// As ``evaluate(trigger:due:grace:now:)``, for a job's bounded and jittered ``Schedule``.
    public static func evaluate(slots: some SlotSequence, due: Timestamp, grace: Period?, now: Timestamp) -> Firing? {
        guard due <= now else { return nil }
        let slotsDue = slots.slotCount(from: due, through: now)
        let slot = slotsDue > 0 ? max(due, slots.latestSlot(atOrBefore: now)!) : due
        let lateness = now - slot
        let onTime = grace.map { lateness <= $0.microseconds } ?? true
        // None after a one-shot: its only time is at or before `now`.
        let next = slots.firstSlot(atOrAfter: now + 1)
        return Firing(
            action: onTime ? .run : .miss, slot: slot, coalescedSlots: max(0, slotsDue - 1), lateness: lateness, nextRunTime: next)
    }

    /// Where a job resumed at `now` picks up: the next run time at or after `now`, so the slots
    /// it missed while paused are not replayed. A one-shot whose time has passed is due at once
    /// (its own time, so the grace still applies).
    public static func resumedRunTime(trigger: Trigger, now: Timestamp) -> Timestamp? {
        resumedRunTime(schedule: Schedule(trigger: trigger), now: now)
    }

    public static func resumedRunTime(schedule: Schedule, now: Timestamp) -> Timestamp? {
        switch schedule.trigger {
        case .once(let at): schedule.firingTime(of: at)
        case .every, .cron: schedule.firstSlot(atOrAfter: now)
        }
    }
}
