import Chronology

/// A five-field cron expression (minute hour day-of-month month day-of-week) as Debian's cron
/// reads it, with the extensions people expect from a scheduler: `L` (last day of the month),
/// `5L` (the month's last Friday), `MON#2` (its second Monday) and the `@daily` family.
///
/// Pure and zone-free: it answers which *wall-clock* minutes match. ``CronSchedule`` turns those
/// into instants in a time zone, with Debian cron's rules at DST changes.
public struct CronExpression: Sendable, Hashable {
    /// As given, for storing and showing.
    public let text: String
    /// The five fields after a macro is expanded, for the description.
    let fields: [String]
    let minutes: UInt64  // bits 0...59
    let hours: UInt32  // bits 0...23
    let daysOfMonth: UInt32  // bits 1...31
    let lastDayOfMonth: Bool
    let months: UInt16  // bits 1...12
    let weekdays: UInt8  // bits 0...6, 0 = Sunday
    let lastWeekdays: UInt8  // `5L`: bit 5
    let nthWeekdays: UInt64  // `MON#2`: bit (2 - 1) * 7 + 1
    /// Vixie cron: a field starting with `*` leaves the day to the other one (AND); when both
    /// day fields are restricted, either matching is enough (OR).
    let dayFieldsAreAnded: Bool
    /// Neither the minute nor the hour field starts with `*`: the job runs at set times of day,
    /// which Debian's cron moves out of a skipped hour and runs once in a repeated one.
    public let isFixedTime: Bool

    public static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// The longest expression accepted, in bytes: far beyond any real one, and a bound on parsing.
    public static let maximumLength = 1000

    /// - Throws: ``SchedulingError`` naming the field, the value and what is accepted, e.g.
    ///   `field 3 (day of month): 32 is out of 1-31`; or saying the expression never fires.
    public init(parsing text: String) throws(SchedulingError) {
        guard text.utf8.count <= Self.maximumLength else {
            throw SchedulingError("is \(text.utf8.count) bytes long; an expression has at most \(Self.maximumLength)")
        }
        let trimmed = text.trimmingSpaces
        var fields = trimmed.uppercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if fields.count == 1, fields[0].hasPrefix("@") {
            guard let expansion = Self.macros[fields[0].lowercased()] else {
                throw SchedulingError(
                    "\"\(trimmed)\" is not a cron macro; use one of \(Self.macros.keys.sorted().joined(separator: ", ")) or five fields")
            }
            fields = expansion.split(separator: " ").map(String.init)
        }
        guard fields.count == 5 else {
            throw SchedulingError(
                "\"\(trimmed)\" has \(fields.count) field\(fields.count == 1 ? "" : "s"); cron has 5: minute hour day-of-month month day-of-week (e.g. \"30 2 * * MON-FRI\"), or a macro such as @daily")
        }
        self.text = trimmed
        self.fields = fields
        minutes = try CronField.minute.bits(fields[0])
        hours = UInt32(try CronField.hour.bits(fields[1]))
        var dayBits: UInt64 = 0
        var last = false
        for term in fields[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if term == "L" { last = true } else { dayBits |= try CronField.dayOfMonth.bits(term) }
        }
        daysOfMonth = UInt32(dayBits)
        lastDayOfMonth = last
        months = UInt16(try CronField.month.bits(fields[3]))
        var weekdayBits: UInt64 = 0
        var lastBits: UInt8 = 0
        var nthBits: UInt64 = 0
        for term in fields[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if term.count > 1, term.hasSuffix("L") {
                let day = try CronField.dayOfWeek.value(String(term.dropLast()), whole: term)
                lastBits |= 1 << (day % 7)
            } else if let hash = term.firstIndex(of: "#") {
                let day = try CronField.dayOfWeek.value(String(term[..<hash]), whole: term)
                let nthText = term[term.index(after: hash)...]
                guard let nth = Int(nthText), (1...5).contains(nth) else {
                    throw SchedulingError(
                        "field 5 (day of week): \"\(term)\" needs a week from 1 to 5 after '#' (MON#2 is the second Monday)")
                }
                nthBits |= 1 << UInt64((nth - 1) * 7 + day % 7)
            } else {
                weekdayBits |= try CronField.dayOfWeek.bits(term)
            }
        }
        // 7 is Sunday too.
        weekdays = UInt8((weekdayBits | weekdayBits >> 7) & 0x7F)
        lastWeekdays = lastBits
        nthWeekdays = nthBits
        dayFieldsAreAnded = fields[2].hasPrefix("*") || fields[4].hasPrefix("*")
        isFixedTime = !fields[0].hasPrefix("*") && !fields[1].hasPrefix("*")
        // Every day pattern recurs within 400 Gregorian years (the weekdays repeat exactly).
        guard nextNaiveMinute(atOrAfter: 0, searchingDays: Self.gregorianCycleDays) != nil else {
            throw SchedulingError("\"\(trimmed)\" never fires: no date matches its day-of-month, month and day-of-week")
        }
    }

    static let gregorianCycleDays: Int64 = 146_097

    // MARK: Matching wall-clock minutes

    /// Whether the date matches the day-of-month, month and day-of-week fields.
    func matchesDay(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        guard months & (1 << month) != 0 else { return false }
        let length = CivilTime.daysIn(month: month, year: year)
        let dayOfMonth = daysOfMonth & (1 << day) != 0 || (lastDayOfMonth && day == length)
        let dayOfWeek =
            weekdays & (1 << weekday) != 0 || (lastWeekdays & (1 << weekday) != 0 && day + 7 > length)
            || nthWeekdays & (1 << UInt64((day - 1) / 7 * 7 + weekday)) != 0
        return dayFieldsAreAnded ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek
    }

    private func matchesDay(_ day: Int64) -> Bool {
        let (y, m, d) = CivilTime.civil(fromDays: day)
        return matchesDay(year: y, month: m, day: d, weekday: CivilTime.weekday(ofDays: day))
    }

    /// The matching minute of the day at or after `minuteOfDay`, if any.
    private func firstTime(atOrAfter minuteOfDay: Int) -> Int? {
        var hour = minuteOfDay / 60
        var from = minuteOfDay % 60
        while hour < 24 {
            if hours & (1 << hour) != 0 {
                let rest = minutes & (~UInt64(0) << from) & 0x0FFF_FFFF_FFFF_FFFF
                if rest != 0 { return hour * 60 + rest.trailingZeroBitCount }
            }
            hour += 1
            from = 0
        }
        return nil
    }

    /// The matching minute of the day at or before `minuteOfDay`, if any.
    private func lastTime(atOrBefore minuteOfDay: Int) -> Int? {
        var hour = minuteOfDay / 60
        var through = minuteOfDay % 60
        while hour >= 0 {
            if hours & (1 << hour) != 0 {
                let rest = minutes & (~UInt64(0) >> (63 - through))
                if rest != 0 { return hour * 60 + 63 - rest.leadingZeroBitCount }
            }
            hour -= 1
            through = 59
        }
        return nil
    }

    private var minutesPerMatchingDay: Int64 { Int64(hours.nonzeroBitCount * minutes.nonzeroBitCount) }

    /// The first matching wall-clock minute at or after `minute` (minutes since 1970-01-01 00:00
    /// on the wall clock), looking at most `searchingDays` ahead.
    func nextNaiveMinute(atOrAfter minute: Int64, searchingDays: Int64 = gregorianCycleDays) -> Int64? {
        let (start, rest) = minute.floorDividedBy(1440)
        var day = start
        let lastDay = day + searchingDays
        var fromMinute = Int(rest)
        while day <= lastDay {
            let (y, m, d) = CivilTime.civil(fromDays: day)
            if months & (1 << m) == 0 {
                day += Int64(CivilTime.daysIn(month: m, year: y) - d + 1)
            } else {
                if matchesDay(year: y, month: m, day: d, weekday: CivilTime.weekday(ofDays: day)),
                    let time = firstTime(atOrAfter: fromMinute)
                {
                    return day * 1440 + Int64(time)
                }
                day += 1
            }
            fromMinute = 0
        }
        return nil
    }

    /// The last matching wall-clock minute at or before `minute`, looking at most `searchingDays` back.
    func previousNaiveMinute(atOrBefore minute: Int64, searchingDays: Int64 = gregorianCycleDays) -> Int64? {
        let (start, rest) = minute.floorDividedBy(1440)
        var day = start
        var throughMinute = Int(rest)
        while day >= start - searchingDays {
            let (y, m, d) = CivilTime.civil(fromDays: day)
            if months & (1 << m) == 0 {
                day -= Int64(d)
            } else {
                if matchesDay(year: y, month: m, day: d, weekday: CivilTime.weekday(ofDays: day)),
                    let time = lastTime(atOrBefore: throughMinute)
                {
                    return day * 1440 + Int64(time)
                }
                day -= 1
            }
            throughMinute = 1439
        }
        return nil
    }

    /// Whether a wall-clock minute matches.
    func matches(naiveMinute minute: Int64) -> Bool {
        let (day, rest) = minute.floorDividedBy(1440)
        return matchesDay(day) && hours & (1 << (rest / 60)) != 0 && minutes & (1 << (rest % 60)) != 0
    }

    /// How many wall-clock minutes in `from..<to` match: a day at a time, so ten years of
    /// `* * * * *` is 3,650 steps, not five million.
    func countNaiveMinutes(from: Int64, to: Int64) -> Int64 {
        guard from < to else { return 0 }
        let (firstDay, firstRest) = from.floorDividedBy(1440)
        let (lastDay, lastRest) = (to - 1).floorDividedBy(1440)
        var total: Int64 = 0
        var day = firstDay
        while day <= lastDay {
            let (y, m, d) = CivilTime.civil(fromDays: day)
            if months & (1 << m) == 0 {
                day += Int64(CivilTime.daysIn(month: m, year: y) - d + 1)
                continue
            }
            if matchesDay(year: y, month: m, day: d, weekday: CivilTime.weekday(ofDays: day)) {
                let low = day == firstDay ? Int(firstRest) : 0
                let high = day == lastDay ? Int(lastRest) : 1439
                total += low == 0 && high == 1439 ? minutesPerMatchingDay : countTimes(from: low, through: high)
            }
            day += 1
        }
        return total
    }

    private func countTimes(from low: Int, through high: Int) -> Int64 {
        var count = 0
        for hour in low / 60...high / 60 where hours & (1 << hour) != 0 {
            let first = hour == low / 60 ? low % 60 : 0
            let last = hour == high / 60 ? high % 60 : 59
            let mask = (~UInt64(0) << first) & (~UInt64(0) >> (63 - last))
            count += (minutes & mask).nonzeroBitCount
        }
        return Int64(count)
    }
}

/// The five fields, their ranges and names, for parsing and for errors that say what is accepted.
enum CronField: Int {
    case minute = 1, hour, dayOfMonth, month, dayOfWeek

    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    var label: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day of month"
        case .month: "month"
        case .dayOfWeek: "day of week"
        }
    }

    var names: [String] {
        switch self {
        case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        default: []
        }
    }

    private var accepted: String {
        let numbers = "\(range.lowerBound)-\(range.upperBound)"
        switch self {
        case .month: return "\(numbers) or JAN-DEC"
        case .dayOfWeek: return "\(numbers) (0 and 7 are Sunday) or SUN-SAT"
        default: return numbers
        }
    }

    private func error(_ text: String) -> SchedulingError { SchedulingError("field \(rawValue) (\(label)): \(text)") }

    /// One value: a number in range or a name.
    func value(_ text: String, whole: String) throws(SchedulingError) -> Int {
        if let index = names.firstIndex(of: text) { return self == .month ? index + 1 : index }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw error("\"\(whole)\" is not a value; use \(accepted), '*', ranges (1-5), steps (*/15) and lists (1,15)")
        }
        guard text.utf8.count <= 4, let number = Int(text), range.contains(number) else {
            throw error("\(text) is out of \(accepted)")
        }
        return number
    }

    /// A comma-separated list of `*`, values, ranges and steps, as a bit set over the range.
    func bits(_ text: String) throws(SchedulingError) -> UInt64 {
        var bits: UInt64 = 0
        for term in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            var base = term
            var step = 1
            if let slash = term.firstIndex(of: "/") {
                base = String(term[..<slash])
                let stepText = String(term[term.index(after: slash)...])
                guard stepText.utf8.count <= 4, let number = Int(stepText), number >= 1 else {
                    throw error("\"\(term)\" needs a whole step of 1 or more after '/'")
                }
                step = number
            }
            let low: Int
            var high: Int
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(String(base[..<dash]), whole: term)
                high = try value(String(base[base.index(after: dash)...]), whole: term)
                guard low <= high else { throw error("\"\(term)\" is a range that ends before it starts; write it low-high") }
            } else {
                low = try value(base, whole: term)
                // `5/15` is Vixie's "from 5 to the end, every 15".
                high = step > 1 || term.contains("/") ? range.upperBound : low
            }
            if self == .dayOfWeek, base == "*" { high = 6 }
            for bit in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(bit) }
        }
        return bits
    }
}
