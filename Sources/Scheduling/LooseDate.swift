import Chronology

/// Reads a job's `when` in the forms fabric8 users typed, always as UTC unless an offset says
/// otherwise:
///
/// - ISO 8601: `2017-04-01T20:00:00Z`, `2017-04-01T22:00:00+02:00`, `2017-04-01T20:00:00.250`;
/// - with a space and optional seconds: `2017-04-01 20:00:00`, `2017-04-01 20:00`;
/// - a date alone, meaning midnight: `2017-04-01`;
/// - month names: `Feb 20, 14:56`, `Mon Feb 20 2017 14:56`. With no year, the next such date
///   at or after `now` (a job is scheduled ahead, so a date already gone this year means next
///   year's). A weekday name must be the date's own: `Tue Feb 20 2017` is refused, as that
///   day was a Monday.
public struct LooseDate: Sendable, Hashable {
    /// A date and time as read: exact, or without its year, which the judging time supplies;
    /// with the weekday named, if any (0 = Sunday), which the date must fall on.
    enum Reading: Sendable, Hashable {
        case exact(Timestamp, weekday: Int?)
        case yearless(month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int?)
    }

    let reading: Reading

    /// Reads `text`; a date without a year stays open until ``timestamp(now:)`` gives it one,
    /// so that the year is judged by the same clock as everything else about the job.
    ///
    /// - Throws: ``SchedulingError`` quoting the input and listing accepted forms.
    public init(parsing text: String) throws(SchedulingError) {
        let trimmed = text.trimmingSpaces
        if let timestamp = Self.iso8601(Array(trimmed.utf8)) {
            reading = .exact(timestamp, weekday: nil)
        } else if let named = Self.monthNamed(trimmed) {
            reading = named
        } else {
            throw SchedulingError(
                "\"\(text)\" is not a date and time; try \"2026-12-01T02:00:00Z\", \"2026-12-01 02:00\" or \"Feb 20, 14:56\" (UTC)")
        }
    }

    /// The instant: as given, or, when the text had no year, the first such date and time at or
    /// after `now` (`Feb 29` finds the next leap year).
    ///
    /// - Throws: ``SchedulingError`` when a weekday was named that the date does not fall on.
    public func timestamp(now: Timestamp) throws(SchedulingError) -> Timestamp {
        switch reading {
        case .exact(let timestamp, let weekday):
            try Self.check(CivilTime(timestamp), weekday: weekday)
            return timestamp
        case .yearless(let month, let day, let hour, let minute, let second, let weekday):
            let thisYear = CivilTime(now).year
            // Within eight years every valid month and day comes round (Feb 29 included).
            for year in thisYear...(thisYear + 8) {
                guard let civil = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second),
                    civil.timestamp >= now
                else { continue }
                try Self.check(civil, weekday: weekday)
                return civil.timestamp
            }
            throw SchedulingError("\(Self.monthName(month)) \(day) comes round in no year; give the year")
        }
    }

    private static func check(_ civil: CivilTime, weekday: Int?) throws(SchedulingError) {
        guard let weekday, civil.weekday != weekday else { return }
        throw SchedulingError(
            "\(monthName(civil.month)) \(civil.day), \(civil.year) is a \(dayNames[civil.weekday]), not a \(dayNames[weekday]); "
                + "fix the weekday or leave it out")
    }

    private static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    private static func monthName(_ month: Int) -> String {
        let name = fullMonths[month - 1]
        return name.prefix(1).uppercased() + name.dropFirst()
    }

    /// Whether `timestamp` is what this reading once resolved to: the same instant for an exact
    /// date; for one without a year, the same month, day and time in any year (a default job's
    /// `Feb 20, 14:56` still names the job it made last year, after it fired).
    public func names(_ timestamp: Timestamp) -> Bool {
        switch reading {
        case .exact(let exact, _):
            return exact == timestamp
        case .yearless(let month, let day, let hour, let minute, let second, _):
            let civil = CivilTime(timestamp)
            return (civil.month, civil.day, civil.hour, civil.minute, civil.second, civil.microsecond) == (month, day, hour, minute, second, 0)
        }
    }

    /// ``init(parsing:)`` then ``timestamp(now:)``.
    public static func parse(_ text: String, now: Timestamp) throws(SchedulingError) -> Timestamp {
        try LooseDate(parsing: text).timestamp(now: now)
    }

    // MARK: ISO 8601 and its space-separated variant

    private static func iso8601(_ bytes: [UInt8]) -> Timestamp? {
        var reader = ByteReader(bytes)
        guard let year = reader.digits(exactly: 4), reader.skip("-"), let month = reader.digits(exactly: 2),
            reader.skip("-"), let day = reader.digits(exactly: 2)
        else { return nil }
        var hour = 0, minute = 0, second = 0, microsecond = 0
        if reader.skip("T") || reader.skip("t") || reader.skip(" ") {
            guard let h = reader.digits(exactly: 2), reader.skip(":"), let m = reader.digits(exactly: 2) else { return nil }
            hour = h
            minute = m
            if reader.skip(":") {
                guard let s = reader.digits(exactly: 2) else { return nil }
                second = s
                if reader.skip(".") || reader.skip(",") {
                    guard let fraction = reader.fraction() else { return nil }
                    microsecond = fraction
                }
            }
        }
        var offsetMinutes = 0
        if reader.skip("Z") || reader.skip("z") {
        } else if let sign = reader.sign() {
            guard let offsetHours = reader.digits(exactly: 2), offsetHours < 24 else { return nil }
            _ = reader.skip(":")
            let offsetMins = reader.atEnd ? 0 : reader.digits(exactly: 2)
            guard let offsetMins, offsetMins < 60 else { return nil }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
        }
        guard reader.atEnd,
            let civil = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second, microsecond: microsecond)
        else { return nil }
        return civil.timestamp - Int64(offsetMinutes) * 60_000_000
    }

    // MARK: Month names

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let fullMonths = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
        "december",
    ]
    /// Weekday words and their day (0 = Sunday).
    private static let weekdays: [String: Int] = [
        "mon": 1, "tue": 2, "tues": 2, "wed": 3, "thu": 4, "thur": 4, "thurs": 4, "fri": 5, "sat": 6, "sun": 0,
        "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 0,
    ]

    /// `[weekday] month day [year] [hh:mm[:ss]]`, with commas wherever a person puts them.
    /// Without a year, the day must exist in some year (`Feb 29` does, in leap years).
    private static func monthNamed(_ text: String) -> Reading? {
        var words = text.lowercased().split { $0 == " " || $0 == "," || $0 == "\t" }.map(String.init)
        var weekday: Int?
        if let first = words.first, let named = weekdays[first.trimmingDot] {
            weekday = named
            words.removeFirst()
        }
        guard words.count >= 2 else { return nil }
        let monthWord = words.removeFirst().trimmingDot
        guard let monthIndex = months.firstIndex(of: monthWord) ?? fullMonths.firstIndex(of: monthWord),
            let day = Int(words.removeFirst())
        else { return nil }
        var year: Int?
        var time: (Int, Int, Int)?
        for word in words {
            if word.contains(":"), time == nil, let clock = clock(word) {
                time = clock
            } else if year == nil, time == nil, word.utf8.count == 4, let value = Int(word) {
                year = value
            } else {
                return nil
            }
        }
        let (hour, minute, second) = time ?? (0, 0, 0)
        // 2024 is a leap year: a yearless date valid in it is valid in some year.
        guard let civil = CivilTime(year: year ?? 2024, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        guard year != nil else {
            return .yearless(month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second, weekday: weekday)
        }
        return .exact(civil.timestamp, weekday: weekday)
    }

    private static func clock(_ word: String) -> (Int, Int, Int)? {
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ (1...2).contains($0.count) && Int($0) != nil }) else {
            return nil
        }
        return (Int(parts[0])!, Int(parts[1])!, parts.count == 3 ? Int(parts[2])! : 0)
    }
}

/// Reads ASCII fields off the front of a byte array.
private struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
        position += 1
        return true
    }

    mutating func digits(exactly count: Int) -> Int? {
        guard position + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[position..<position + count] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        position += count
        return value
    }

    /// Fractional-second digits as microseconds; digits past the sixth are dropped.
    mutating func fraction() -> Int? {
        var value = 0
        var count = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            if count < 6 { value = value * 10 + Int(bytes[position] - UInt8(ascii: "0")) }
            count += 1
            position += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 6) { value *= 10 }
        return value
    }

    mutating func sign() -> Int? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    fileprivate var trimmingDot: String { hasSuffix(".") ? String(dropLast()) : self }
}
