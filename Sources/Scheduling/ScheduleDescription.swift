/// A schedule in plain English, for a job's `description` and a preview: "At 02:30",
/// "Every 5 minutes", "At 09:00, on the fifth Monday of the month", "Every 1 day".
///
/// One rule throughout: the words say *which wall-clock times* fire, read from the parsed
/// fields (never from the text, so `0-59/5` and `*/5` read alike). The time zone is not part
/// of the words: a job and a preview give it in their own `timezone` field, so the words stay
/// the same for every zone and the zone is never stated twice.
public enum ScheduleDescription {
    public static func of(_ expression: CronExpression) -> String {
        let days = dayWords(expression)
        return days.isEmpty ? timeWords(expression) : timeWords(expression) + ", " + days
    }

    public static func of(_ trigger: Trigger) -> String {
        switch trigger {
        case .once(let at): "Once, at \(at.iso8601)"
        case .every(let period, _): "Every \(words(period))"
        case .cron(let schedule, _): of(schedule.expression)
        }
    }

    // MARK: Times of day

    private static func timeWords(_ expression: CronExpression) -> String {
        let minutes = (0..<60).filter { expression.minutes & (1 << $0) != 0 }
        let hours = (0..<24).filter { expression.hours & (1 << $0) != 0 }
        let everyMinuteStep = step(of: minutes, span: 60)
        let everyHourStep = step(of: hours, span: 24)
        if hours.count == 24, let step = everyMinuteStep {
            return step == 1 ? "Every minute" : "Every \(step) minutes"
        }
        if minutes.count == 1, let step = everyHourStep {
            let past = minutes[0] == 0 ? "" : ", at \(minutes[0]) minute\(minutes[0] == 1 ? "" : "s") past the hour"
            return (step == 1 ? "Every hour" : "Every \(step) hours") + past
        }
        if minutes.count * hours.count <= 6 {
            return "At " + list(hours.flatMap { hour in minutes.map { clock(hour, $0) } })
        }
        let minuteWords = everyMinuteStep.map { $0 == 1 ? "Every minute" : "Every \($0) minutes" }
            ?? "At minute\(minutes.count == 1 ? "" : "s") \(list(ranges(minutes).map(\.numbers)))"
        return minuteWords + ", " + hourWords(hours)
    }

    private static func hourWords(_ hours: [Int]) -> String {
        let spans = ranges(hours)
        if spans.count == 1 { return "every hour from \(clock(spans[0].lowerBound, 0)) to \(clock(spans[0].upperBound, 59))" }
        return "in the hours " + list(spans.map { "\(clock($0.lowerBound, 0))-\(clock($0.upperBound, 59))" })
    }

    // MARK: Days

    private static func dayWords(_ expression: CronExpression) -> String {
        let weekdays = weekdayWords(expression)
        let monthDays = monthDayWords(expression)
        let days: String =
            switch (monthDays, weekdays) {
            case (nil, nil): ""
            case (let d?, nil): d
            case (nil, let w?): w
            case (let d?, let w?): expression.dayFieldsAreAnded ? "\(d), if it is \(w)" : "\(d), or \(w)"
            }
        let months = (1...12).filter { expression.months & (1 << $0) != 0 }
        guard months.count < 12 else { return days }
        let monthList = "in " + list(ranges(months).map { name(of: $0, in: monthNames) })
        return days.isEmpty ? monthList : days + ", " + monthList
    }

    private static func monthDayWords(_ expression: CronExpression) -> String? {
        let days = (1...31).filter { expression.daysOfMonth & (1 << $0) != 0 }
        var parts: [String] = []
        if !days.isEmpty, days.count < 31 || expression.lastDayOfMonth {
            parts.append("day\(days.count == 1 ? "" : "s") \(list(ranges(days).map(\.numbers)))")
        }
        if expression.lastDayOfMonth { parts.append("the last day") }
        guard !parts.isEmpty else { return nil }
        return "on " + list(parts) + " of the month"
    }

    private static func weekdayWords(_ expression: CronExpression) -> String? {
        let plain = (0...6).filter { expression.weekdays & (1 << $0) != 0 }
        var parts: [String] = []
        if !plain.isEmpty, plain.count < 7 || expression.lastWeekdays != 0 || expression.nthWeekdays != 0 {
            // Monday first, as people list a week; Sunday-only stays Sunday.
            let mondayFirst = plain.map { ($0 + 6) % 7 }.sorted()
            parts.append(list(ranges(mondayFirst).map { name(of: $0, in: weekdayNamesFromMonday) }))
        }
        for weekday in 0...6 where expression.lastWeekdays & (1 << weekday) != 0 {
            parts.append("the last \(weekdayNames[weekday]) of the month")
        }
        for ordinal in 1...5 {
            for weekday in 0...6 where expression.nthWeekdays & (1 << ((ordinal - 1) * 7 + weekday)) != 0 {
                parts.append("the \(ordinals[ordinal - 1]) \(weekdayNames[weekday]) of the month")
            }
        }
        guard !parts.isEmpty else { return nil }
        // "Monday through Friday" alone; "on the last Friday of the month", "on Monday and ...".
        return (parts.count == 1 && !plain.isEmpty && plain.count < 7 ? "" : "on ") + list(parts)
    }

    // MARK: Pieces

    private static let weekdayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let weekdayNamesFromMonday = Array(weekdayNames[1...]) + ["Sunday"]
    private static let monthNames = [""] + ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                                            "October", "November", "December"]
    private static let ordinals = ["first", "second", "third", "fourth", "fifth"]

    /// `n` when `values` is exactly 0, n, 2n, ... across the span (n dividing it).
    private static func step(of values: [Int], span: Int) -> Int? {
        guard values.count > 1, values[0] == 0 else { return nil }
        let n = values[1] - values[0]
        guard span % n == 0, values == Array(stride(from: 0, to: span, by: n)) else { return nil }
        return n
    }

    /// Sorted values as runs of consecutive ones.
    private static func ranges(_ values: [Int]) -> [ClosedRange<Int>] {
        var spans: [ClosedRange<Int>] = []
        for value in values {
            if let last = spans.last, last.upperBound + 1 == value {
                spans[spans.count - 1] = last.lowerBound...value
            } else {
                spans.append(value...value)
            }
        }
        return spans
    }

    /// A run of names: "Monday", "Monday and Tuesday", "Monday through Friday".
    private static func name(of span: ClosedRange<Int>, in names: [String]) -> String {
        switch span.count {
        case 1: names[span.lowerBound]
        case 2: "\(names[span.lowerBound]) and \(names[span.upperBound])"
        default: "\(names[span.lowerBound]) through \(names[span.upperBound])"
        }
    }

    private static func clock(_ hour: Int, _ minute: Int) -> String {
        (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    /// "a", "a and b", "a, b and c".
    private static func list(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    private static func words(_ period: Period) -> String {
        let units: [(Int64, String)] = [(86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]
        let us = period.microseconds
        for (seconds, unit) in units where us % (seconds * Period.microsecondsPerSecond) == 0 {
            let count = us / (seconds * Period.microsecondsPerSecond)
            return count == 1 ? unit : "\(count) \(unit)s"
        }
        return period.description
    }
}

private extension ClosedRange<Int> {
    var numbers: String { lowerBound == upperBound ? "\(lowerBound)" : "\(lowerBound)-\(upperBound)" }
}
