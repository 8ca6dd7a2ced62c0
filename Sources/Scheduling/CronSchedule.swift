import Chronology

/// A cron expression read in a time zone: the instants it fires at, by Debian cron's DST rules.
///
/// - A *fixed-time* expression (neither minute nor hour starts with `*`) follows the wall clock as
///   if it never ran backwards: a time skipped by a spring-forward fires at the first instant after
///   the gap; a time repeated by a fall-back fires once, at its first occurrence.
/// - Any other expression matches wall-clock times as they occur: a skipped time does not fire,
///   a repeated one fires both times.
///
/// Slots are whole minutes. Every query is bounded (no walk over every missed slot).
public struct CronSchedule: Sendable, Hashable {
    public let expression: CronExpression
    public let zone: TimeZoneRules

    public init(expression: CronExpression, zone: TimeZoneRules) {
        self.expression = expression
        self.zone = zone
    }

    public static func == (lhs: CronSchedule, rhs: CronSchedule) -> Bool {
        lhs.expression == rhs.expression && lhs.zone.name == rhs.zone.name
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(expression)
        hasher.combine(zone.name)
    }

    /// Debian's rule applies only where the zone has changes; in UTC both readings agree.
    private var fixedTime: Bool { expression.isFixedTime }

    /// The first slot strictly after `time`; nil if none in 400 years.
    public func firstSlot(after time: Timestamp) -> Timestamp? {
        let after = time.microsecondsSinceEpoch.floorDividedBy(1_000_000).quotient  // slots are whole seconds: > time ⇔ > floor
        return (fixedTime ? fixedFirst(after: after) : wallFirst(after: after)).map { Timestamp(secondsSinceEpoch: $0) }
    }

    /// The latest slot at or before `time`; nil if none in 400 years.
    public func latestSlot(atOrBefore time: Timestamp) -> Timestamp? {
        let through = time.microsecondsSinceEpoch.floorDividedBy(1_000_000).quotient
        return (fixedTime ? fixedLatest(atOrBefore: through) : wallLatest(atOrBefore: through)).map { Timestamp(secondsSinceEpoch: $0) }
    }

    /// How many slots fall in `from...through`: a day at a time between the zone's changes, so
    /// ten years of `* * * * *` costs thousands of steps, not millions.
    public func slotCount(from: Timestamp, through: Timestamp) -> Int64 {
        let low = -(-from.microsecondsSinceEpoch).floorDividedBy(1_000_000).quotient  // ceil
        let high = through.microsecondsSinceEpoch.floorDividedBy(1_000_000).quotient
        guard low <= high else { return 0 }
        var count: Int64 = 0
        var segmentStart = low
        // Fixed time: the wall clock as if it never ran back (its high-water mark); a minute is
        // counted once, when that clock first passes it. Minutes up to the mark at `low - 1` are
        // earlier slots.
        let justBefore = low - 1
        var highWater = justBefore + Int64(zone.offset(at: justBefore))
        if let change = zone.transition(atOrBefore: justBefore) {
            highWater = max(highWater, change - 1 + Int64(zone.offset(at: change - 1)))
        }
        var cursor = highWater.floorDividedBy(60).quotient + 1
        while segmentStart <= high {
            let offset = Int64(zone.offset(at: segmentStart))
            let segmentEnd = min(zone.transition(after: segmentStart) ?? Int64.max, high + 1)
            var first = ceilMinutes(segmentStart + offset)
            let end = ceilMinutes(segmentEnd + offset)
            if fixedTime {
                if cursor > first {
                    first = cursor  // a repeated hour: its times were counted at their first occurrence
                } else if cursor < first, expression.countNaiveMinutes(from: cursor, to: first) > 0,
                    !(first * 60 - offset == segmentStart && expression.matches(naiveMinute: first))
                {
                    count += 1  // times skipped by a spring-forward fire together, as the gap ends
                }
                cursor = max(cursor, end)
            }
            count += expression.countNaiveMinutes(from: first, to: end)
            segmentStart = segmentEnd
        }
        return count
    }

    // MARK: Wall-clock times as they occur

    private func wallFirst(after instant: Int64) -> Int64? {
        var from = instant + 1
        for _ in 0..<Self.maximumSegments {
            let offset = Int64(zone.offset(at: from))
            let end = zone.transition(after: from) ?? Int64.max
            guard let minute = expression.nextNaiveMinute(atOrAfter: ceilMinutes(from + offset)) else { return nil }
            let candidate = minute * 60 - offset
            if candidate < end { return candidate }
            from = end
        }
        return nil
    }

    private func wallLatest(atOrBefore instant: Int64) -> Int64? {
        var through = instant
        for _ in 0..<Self.maximumSegments {
            let offset = Int64(zone.offset(at: through))
            let start = zone.transition(atOrBefore: through) ?? Int64.min
            guard let minute = expression.previousNaiveMinute(atOrBefore: (through + offset).floorDividedBy(60).quotient) else {
                return nil
            }
            let candidate = minute * 60 - offset
            if candidate >= start { return candidate }
            through = start - 1
        }
        return nil
    }

    /// Half-yearly changes over the 400 years a search spans, and then some.
    static let maximumSegments = 2000

    // MARK: Fixed times of day (Debian's DST rule)

    /// The instant a wall-clock minute fires at: its first occurrence, or the end of the gap it
    /// falls in.
    func instant(ofNaiveMinute minute: Int64) -> Int64 {
        let local = minute * 60
        let before = Int64(zone.offset(at: local - Self.window))
        let after = Int64(zone.offset(at: local + Self.window))
        for offset in [before, after].sorted(by: >) where Int64(zone.offset(at: local - offset)) == offset {
            return local - offset  // the larger offset is the earlier instant
        }
        // In a gap: the change it falls in begins after `local - after` and at or before `local - before`.
        return zone.transition(after: local - after) ?? local - before
    }

    /// Beyond any UTC offset (±26 h), so the offsets at `local ± window` are those on either side.
    private static let window: Int64 = 30 * 3600

    private func offsetBounds(around instant: Int64) -> (low: Int64, high: Int64) {
        let offsets = [instant - Self.window, instant, instant + Self.window].map { Int64(zone.offset(at: $0)) }
        return (offsets.min()!, offsets.max()!)
    }

    private func fixedFirst(after instant: Int64) -> Int64? {
        // A wall-clock minute before `instant + low offset` maps to an instant at or before `instant`.
        var minute = (instant + offsetBounds(around: instant).low).floorDividedBy(60).quotient
        for _ in 0..<Self.maximumFixedSteps {
            guard let next = expression.nextNaiveMinute(atOrAfter: minute) else { return nil }
            let candidate = self.instant(ofNaiveMinute: next)
            if candidate > instant { return candidate }
            minute = next + 1
        }
        return nil
    }

    private func fixedLatest(atOrBefore instant: Int64) -> Int64? {
        var minute = (instant + offsetBounds(around: instant).high).floorDividedBy(60).quotient
        for _ in 0..<Self.maximumFixedSteps {
            guard let previous = expression.previousNaiveMinute(atOrBefore: minute) else { return nil }
            let candidate = self.instant(ofNaiveMinute: previous)
            if candidate <= instant { return candidate }
            minute = previous - 1
        }
        return nil
    }

    /// The wall-clock minutes between `instant + low` and `instant + high` offsets (a DST shift,
    /// at most a few hours) are the only ones a step can skip; this bounds them with room to spare.
    static let maximumFixedSteps = 2000

    private func ceilMinutes(_ seconds: Int64) -> Int64 { -(-seconds).floorDividedBy(60).quotient }
}
