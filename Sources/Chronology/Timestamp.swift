import Foundation

/// An instant in UTC with PostgreSQL's precision: whole microseconds since 1970-01-01T00:00:00Z.
///
/// Kairos computes run times with this rather than `Date` because integer arithmetic is exact:
/// `start + k × interval` lands on the same microsecond however large `k` grows, where a
/// `Double` of seconds would drift.
public struct Timestamp: Sendable, Hashable, Comparable {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// The nearest microsecond to `date`.
    public init(_ date: Date) {
        microsecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    public init(secondsSinceEpoch seconds: Int64) {
        microsecondsSinceEpoch = seconds * 1_000_000
    }

    public var date: Date {
        // Whole seconds and the fraction apart, so the Double keeps every microsecond.
        let (seconds, micros) = microsecondsSinceEpoch.floorDividedBy(1_000_000)
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// `lhs` moved by `microseconds` (negative moves back).
    public static func + (lhs: Timestamp, microseconds: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: lhs.microsecondsSinceEpoch + microseconds)
    }

    public static func - (lhs: Timestamp, microseconds: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: lhs.microsecondsSinceEpoch - microseconds)
    }

    /// The microseconds from `rhs` to `lhs`.
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Int64 {
        lhs.microsecondsSinceEpoch - rhs.microsecondsSinceEpoch
    }
}

extension Int64 {
    /// Quotient rounded toward negative infinity, and the non-negative remainder.
    public func floorDividedBy(_ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = self / divisor
        var remainder = self % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}
