import Chronology

/// When a job runs: once, every `period` from `start` (`start`, `start + period`, ...), or at
/// the slots of a cron schedule not before `start`. Run times are computed from the schedule,
/// never from the last execution, so they cannot drift.
public enum Trigger: Sendable, Hashable {
    case once(at: Timestamp)
    case every(Period, from: Timestamp)
    case cron(CronSchedule, from: Timestamp)

    /// The trigger for a new job, by fabric8's and APScheduler's rules: a one-shot runs at
    /// `when`, or now when absent, and a `when` in the past is an error; an interval starts at
    /// `when`, or one period after `now` when absent.
    ///
    /// - Throws: ``SchedulingError`` for a one-shot in the past or a zero period.
    public static func make(when: Timestamp?, periodically: Period?, now: Timestamp) throws(SchedulingError) -> Trigger {
        try make(when: when, periodically: periodically, cron: nil, now: now)
    }

    /// As ``make(when:periodically:now:)``; a cron schedule starts at `when`, or now when absent
    /// (its first slot is the first after that, so a `when` in the past is allowed).
    public static func make(when: Timestamp?, periodically: Period?, cron: CronSchedule?, now: Timestamp) throws(SchedulingError) -> Trigger {
        if let cron { return .cron(cron, from: when ?? now) }
        guard let period = periodically else {
            let at = when ?? now
            guard at >= now else {
                throw SchedulingError("\(at.iso8601) is in the past (now is \(now.iso8601)); a one-shot job needs a future time")
            }
            return .once(at: at)
        }
        guard !period.isZero else { throw SchedulingError("the interval must be longer than 0 seconds") }
        return .every(period, from: when ?? now + period.microseconds)
    }

    /// The first run time: the `when` of a one-shot, the start of an interval.
    public var start: Timestamp {
        switch self {
        case .once(let at), .every(_, let at), .cron(_, let at): at
        }
    }

    public var cron: CronSchedule? {
        if case .cron(let schedule, _) = self { return schedule }
        return nil
    }

    public var period: Period? {
        if case .every(let period, _) = self { return period }
        return nil
    }

    /// The earliest run time at or after `time`; nil when a one-shot's time has passed.
    public func firstSlot(atOrAfter time: Timestamp) -> Timestamp? {
        switch self {
        case .once(let at):
            return at >= time ? at : nil
        case .every(let period, let start):
            guard time > start else { return start }
            let steps = (time - start + period.microseconds - 1) / period.microseconds
            return start + steps * period.microseconds
        case .cron(let schedule, let start):
            return schedule.firstSlot(after: max(time, start) - 1)
        }
    }

    /// The latest run time at or before `time`; nil when there is none yet.
    public func latestSlot(atOrBefore time: Timestamp) -> Timestamp? {
        switch self {
        case .once(let at):
            return at <= time ? at : nil
        case .every(let period, let start):
            guard time >= start else { return nil }
            return start + (time - start) / period.microseconds * period.microseconds
        case .cron(let schedule, let start):
            return schedule.latestSlot(atOrBefore: time).flatMap { $0 >= start ? $0 : nil }
        }
    }

    /// How many run times fall in `from...through`: O(1) for an interval, a day at a time for cron.
    public func slotCount(from: Timestamp, through: Timestamp) -> Int64 {
        guard let first = firstSlot(atOrAfter: from), let last = latestSlot(atOrBefore: through), first <= last else { return 0 }
        switch self {
        case .once: return 1
        case .every(let period, _): return (last - first) / period.microseconds + 1
        case .cron(let schedule, _): return schedule.slotCount(from: first, through: last)
        }
    }
}
