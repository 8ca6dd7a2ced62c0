/// A length of time, kept exactly in microseconds: a job's interval or its misfire grace time.
///
/// Parsed as pytimeparse reads durations (``init(parsing:)``) and printed as Python's
/// `timedelta` prints itself (``description``), because fabric8 clients read and wrote both.
public struct Period: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let microseconds: Int64

    public static let microsecondsPerSecond: Int64 = 1_000_000
    public static let microsecondsPerDay: Int64 = 86_400 * microsecondsPerSecond
    /// timedelta's own bound is 999,999,999 days; a million days (2,700 years) is plenty for a
    /// schedule and keeps every sum of a timestamp and a period far from Int64 overflow.
    public static let maximum = Period(microseconds: 999_999 * microsecondsPerDay)

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func seconds(_ seconds: Int64) -> Period { Period(microseconds: seconds * microsecondsPerSecond) }
    public static func days(_ days: Int64) -> Period { Period(microseconds: days * microsecondsPerDay) }

    public var isZero: Bool { microseconds == 0 }

    public static func < (lhs: Period, rhs: Period) -> Bool { lhs.microseconds < rhs.microseconds }

    /// `timedelta`'s `str()`: `0:00:45`, `5:00:00`, `1 day, 0:00:00`, `365 days, 0:00:00`,
    /// `0:00:01.500000`.
    public var description: String {
        let days = microseconds / Self.microsecondsPerDay
        let rest = microseconds % Self.microsecondsPerDay
        let seconds = rest / Self.microsecondsPerSecond
        let fraction = rest % Self.microsecondsPerSecond
        var clock = "\(seconds / 3600):\(twoDigits(seconds / 60 % 60)):\(twoDigits(seconds % 60))"
        if fraction != 0 {
            let digits = String(fraction)
            clock += "." + String(repeating: "0", count: 6 - digits.count) + digits
        }
        guard days != 0 else { return clock }
        return "\(days) day\(days == 1 ? "" : "s"), \(clock)"
    }

    private func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
