import Chronology

/// Reads the timestamps the server writes with `DateStyle = ISO` (every connection sets it):
/// `2026-03-01 00:00:00.123456+00`, an offset such as `+05:30` or `-03:30:15`, no offset for a
/// `timestamp without time zone` (taken as UTC), and `2026-03-01` for a `date`.
/// `infinity`, `-infinity` and BC dates have no ``Timestamp`` and read as nil.
enum PostgresTimestampText {
    static func parse(_ text: String) -> Timestamp? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(minDigits: 4, maxDigits: 6), scanner.consume("-"),
            let month = scanner.number(digits: 2), scanner.consume("-"),
            let day = scanner.number(digits: 2)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var microsecond = 0
        var offsetSeconds = 0
        if scanner.consume(" ") || scanner.consume("T") {
            guard let h = scanner.number(digits: 2), scanner.consume(":"),
                let m = scanner.number(digits: 2), scanner.consume(":"),
                let s = scanner.number(digits: 2)
            else { return nil }
            (hour, minute, second) = (h, m, s)
            if scanner.consume(".") {
                guard let fraction = scanner.fraction() else { return nil }
                microsecond = fraction
            }
            if let sign = scanner.sign() {
                guard let offsetHours = scanner.number(digits: 2) else { return nil }
                var offset = offsetHours * 3600
                if scanner.consume(":") {
                    guard let offsetMinutes = scanner.number(digits: 2) else { return nil }
                    offset += offsetMinutes * 60
                    if scanner.consume(":") {
                        guard let offsetSecs = scanner.number(digits: 2) else { return nil }
                        offset += offsetSecs
                    }
                }
                offsetSeconds = sign * offset
            }
        }
        guard scanner.isAtEnd,
            let civil = CivilTime(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                microsecond: microsecond)
        else { return nil }
        return civil.timestamp - Int64(offsetSeconds) * 1_000_000
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { position == bytes.count }

        mutating func consume(_ character: Unicode.Scalar) -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
            position += 1
            return true
        }

        mutating func number(digits: Int) -> Int? { number(minDigits: digits, maxDigits: digits) }

        mutating func number(minDigits: Int, maxDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while count < maxDigits, position < bytes.count, let digit = digit(bytes[position]) {
                value = value * 10 + digit
                count += 1
                position += 1
            }
            return count >= minDigits ? value : nil
        }

        /// Up to six fractional digits as microseconds ("5" is 500000); more digits are refused.
        mutating func fraction() -> Int? {
            var value = 0
            var count = 0
            while position < bytes.count, let digit = digit(bytes[position]) {
                guard count < 6 else { return nil }
                value = value * 10 + digit
                count += 1
                position += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<6 { value *= 10 }
            return value
        }

        mutating func sign() -> Int? {
            if consume("+") { return 1 }
            if consume("-") { return -1 }
            return nil
        }

        private func digit(_ byte: UInt8) -> Int? {
            byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
        }
    }
}
