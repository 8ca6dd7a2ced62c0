/// A UTC calendar date and time of day, the proleptic Gregorian calendar PostgreSQL uses.
/// Conversions are pure arithmetic (Howard Hinnant's `days_from_civil`), no `Calendar`.
public struct CivilTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var microsecond: Int

    /// Nil unless every field is in range (a real day of that month, 0–23 h, 0–59 min, 0–59 s).
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0) {
        guard (1...12).contains(month), day >= 1, day <= CivilTime.daysIn(month: month, year: year),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second),
            (0...999_999).contains(microsecond)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond
    }

    public init(_ timestamp: Timestamp) {
        let (days, microsOfDay) = timestamp.microsecondsSinceEpoch.floorDividedBy(86_400_000_000)
        let (y, m, d) = CivilTime.civil(fromDays: days)
        year = y
        month = m
        day = d
        let seconds = Int(microsOfDay / 1_000_000)
        hour = seconds / 3600
        minute = seconds / 60 % 60
        second = seconds % 60
        microsecond = Int(microsOfDay % 1_000_000)
    }

    public var timestamp: Timestamp {
        let days = Int64(CivilTime.days(fromYear: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + Int64(microsecond))
    }

    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int { CivilTime.weekday(ofDays: Int64(CivilTime.days(fromYear: year, month: month, day: day))) }

    /// The weekday (0 = Sunday) of the day `days` after 1970-01-01, a Thursday.
    public static func weekday(ofDays days: Int64) -> Int { Int(((days % 7) + 7 + 4) % 7) }

    public static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func days(fromYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01.
    public static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
