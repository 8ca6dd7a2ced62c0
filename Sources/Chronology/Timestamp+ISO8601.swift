extension Timestamp {
    /// ISO 8601 in UTC with a `Z`: `2026-03-01T00:00:00Z`, or `2026-03-01T00:00:00.123456Z` when
    /// there is a fraction. Years outside 0000–9999 are written with a sign, as ISO 8601 extends them.
    public var iso8601: String { spelled(dateTimeSeparator: "T", fraction: .whenPresent, zone: "Z") }

    /// ISO 8601 in UTC to the millisecond, always with the fraction: `2026-03-01T00:00:00.123Z`,
    /// the fixed width log lines want.
    public var iso8601Milliseconds: String { spelled(dateTimeSeparator: "T", fraction: .milliseconds, zone: "Z") }

    /// PostgreSQL's own text for a `timestamptz` in UTC: `2026-03-01 00:00:00.123456+00`,
    /// which the server reads back exactly whatever its `DateStyle`.
    public var postgresText: String { spelled(dateTimeSeparator: " ", fraction: .whenPresent, zone: "+00") }

    /// Appends ``iso8601``'s UTF-8 to `bytes`: what a JSON writer spells without making a string.
    public func appendISO8601(to bytes: inout [UInt8]) {
        Self.spell(CivilTime(self), dateTimeSeparator: "T", fraction: .whenPresent, zone: "Z", into: &bytes)
    }

    private enum Fraction { case whenPresent, milliseconds }

    // These are spelled on every API answer, log line and bound parameter: digits go straight
    // into bytes (one allocation for the string) instead of through a dozen concatenations.
    private func spelled(dateTimeSeparator: Unicode.Scalar, fraction: Fraction, zone: StaticString) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        Self.spell(CivilTime(self), dateTimeSeparator: dateTimeSeparator, fraction: fraction, zone: zone, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func spell(
        _ civil: CivilTime, dateTimeSeparator: Unicode.Scalar, fraction: Fraction, zone: StaticString, into bytes: inout [UInt8]
    ) {
        if (0...9999).contains(civil.year) {
            appendDigits(civil.year, width: 4, to: &bytes)
        } else {
            bytes.append(civil.year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            appendDigits(abs(civil.year), width: 6, to: &bytes)
        }
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.day, width: 2, to: &bytes)
        bytes.append(UInt8(dateTimeSeparator.value))
        appendDigits(civil.hour, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(civil.minute, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(civil.second, width: 2, to: &bytes)
        switch fraction {
        case .whenPresent where civil.microsecond != 0:
            bytes.append(UInt8(ascii: "."))
            appendDigits(civil.microsecond, width: 6, to: &bytes)
        case .milliseconds:
            bytes.append(UInt8(ascii: "."))
            appendDigits(civil.microsecond / 1000, width: 3, to: &bytes)
        case .whenPresent:
            break
        }
        zone.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `value` (not negative) in decimal, zero-padded to at least `width` digits.
    private static func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(width, digits)))
        var index = bytes.count - 1
        var remaining = value
        repeat {
            bytes[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            index -= 1
        } while remaining > 0 && index >= start
    }
}
