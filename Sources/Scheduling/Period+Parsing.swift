extension Period {
    /// Reads a duration the way pytimeparse does, which is what fabric8 accepted:
    ///
    /// - a number of seconds: `45`, `1.5`;
    /// - amounts with units, largest first, optionally separated by spaces or commas:
    ///   `1 week`, `2 weeks 3 days`, `1h30m`, `1.5h`, `90s`, `2 mins`, `3 hrs`
    ///   (units: `w wk wks week weeks`, `d dy dys day days`, `h hr hrs hour hours`,
    ///   `m min mins minute minutes`, `s sec secs second seconds`);
    /// - clocks: `1:30` (minutes:seconds), `5:00:00` (hours), `2:05:00:00` (days), optionally
    ///   after weeks or days: `1 day, 0:00:00` (so every ``description`` reads back).
    ///
    /// - Throws: ``SchedulingError`` quoting the input and listing accepted forms.
    public init(parsing text: String) throws(SchedulingError) {
        let tooLong = SchedulingError("\"\(text)\" is too long; the longest duration accepted is 999999 days")
        guard let microseconds = PeriodParser(text).parse() else {
            // Well formed but past what 64 bits of microseconds hold is too long, not malformed.
            if PeriodParser(text, saturating: true).parse() != nil { throw tooLong }
            throw SchedulingError("\"\(text)\" is not a duration; try \"1 day\", \"5:00:00\", \"1h30m\" or \"90s\"")
        }
        guard microseconds <= Period.maximum.microseconds else { throw tooLong }
        self.init(microseconds: microseconds)
    }
}

/// The pytimeparse grammar over the lower-cased input. Every method returns nil on a mismatch.
private struct PeriodParser {
    private enum Token: Equatable {
        case number(String)
        case clock([String])
        case word(String)
        case comma
    }

    private enum Unit: Int, Comparable {
        case seconds, minutes, hours, days, weeks

        init?(_ word: String) {
            switch word {
            case "w", "wk", "wks", "week", "weeks": self = .weeks
            case "d", "dy", "dys", "day", "days": self = .days
            case "h", "hr", "hrs", "hour", "hours": self = .hours
            case "m", "min", "mins", "minute", "minutes": self = .minutes
            case "s", "sec", "secs", "second", "seconds": self = .seconds
            default: return nil
            }
        }

        var microseconds: Int64 {
            switch self {
            case .seconds: 1_000_000
            case .minutes: 60_000_000
            case .hours: 3_600_000_000
            case .days: 86_400_000_000
            case .weeks: 604_800_000_000
            }
        }

        static func < (lhs: Unit, rhs: Unit) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let text: [UInt8]
    /// Sums that overflow stay at the largest value instead of failing: tells "too long" from
    /// "not a duration".
    private let saturating: Bool

    init(_ text: String, saturating: Bool = false) {
        self.text = Array(text.lowercased().utf8)
        self.saturating = saturating
    }

    func parse() -> Int64? {
        guard let tokens = tokenize(), !tokens.isEmpty else { return nil }
        if tokens.count == 1, case .number(let number) = tokens[0] { return amount(number, Unit.seconds.microseconds) }

        var total: Int64 = 0
        var smallestUnitSoFar: Unit?
        var index = 0
        var expectingComponent = true
        while index < tokens.count {
            switch tokens[index] {
            case .comma:
                // A comma only separates two components: never first, last or doubled.
                guard !expectingComponent, index + 1 < tokens.count else { return nil }
                expectingComponent = true
                index += 1
            case .clock(let parts):
                // A clock ends the input and may follow only weeks or days.
                guard index == tokens.count - 1, smallestUnitSoFar.map({ $0 >= .days }) ?? true,
                    let value = clock(parts, allowDays: smallestUnitSoFar == nil)
                else { return nil }
                return add(total, value)
            case .number(let number):
                guard index + 1 < tokens.count, case .word(let word) = tokens[index + 1], let unit = Unit(word),
                    smallestUnitSoFar.map({ unit < $0 }) ?? true,
                    let value = amount(number, unit.microseconds), let sum = add(total, value)
                else { return nil }
                total = sum
                smallestUnitSoFar = unit
                expectingComponent = false
                index += 2
            case .word:
                return nil
            }
        }
        return expectingComponent ? nil : total
    }

    // MARK: Tokens

    private func tokenize() -> [Token]? {
        var tokens: [Token] = []
        var position = 0
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        func isLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        while position < text.count {
            let byte = text[position]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                position += 1
            } else if byte == UInt8(ascii: ",") {
                tokens.append(.comma)
                position += 1
            } else if isLetter(byte) {
                let start = position
                while position < text.count, isLetter(text[position]) { position += 1 }
                tokens.append(.word(String(decoding: text[start..<position], as: UTF8.self)))
            } else if isDigit(byte) || byte == UInt8(ascii: ".") {
                let start = position
                while position < text.count,
                    isDigit(text[position]) || text[position] == UInt8(ascii: ".") || text[position] == UInt8(ascii: ":")
                {
                    position += 1
                }
                let word = String(decoding: text[start..<position], as: UTF8.self)
                if word.contains(":") {
                    tokens.append(.clock(word.split(separator: ":", omittingEmptySubsequences: false).map(String.init)))
                } else {
                    tokens.append(.number(word))
                }
            } else {
                return nil
            }
        }
        return tokens
    }

    // MARK: Values

    /// `number` (digits, at most one `.`) times `unit`, exact to the microsecond (rounded down).
    private func amount(_ number: String, _ unit: Int64) -> Int64? {
        let pieces = number.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2, !(pieces.count == 2 && pieces[0].isEmpty && pieces[1].isEmpty) else { return nil }
        let digitsOnly = pieces[0].utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        let whole = pieces[0].isEmpty ? 0 : Int64(pieces[0]) ?? (saturating && digitsOnly ? .max : nil)
        guard let whole else { return nil }
        let (product, overflow) = whole.multipliedReportingOverflow(by: unit)
        guard !overflow else { return saturating ? .max : nil }
        guard pieces.count == 2, !pieces[1].isEmpty else { return pieces.count == 2 && pieces[0].isEmpty ? nil : product }
        // The fraction: only the digits that can matter at microsecond precision.
        var fraction: Int64 = 0
        var scale: Int64 = 1
        for digit in pieces[1].utf8 {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            if scale < 10_000_000 {  // seven digits: below a microsecond for every unit
                fraction = fraction * 10 + Int64(digit - UInt8(ascii: "0"))
                scale *= 10
            }
        }
        return add(product, unit / scale * fraction + unit % scale * fraction / scale)
    }

    /// `m:ss`, `h:mm:ss` or `d:hh:mm:ss`; later fields two digits and in range, only the
    /// seconds may carry a fraction.
    private func clock(_ parts: [String], allowDays: Bool) -> Int64? {
        let units: [Int64]
        switch parts.count {
        case 2: units = [60_000_000, 1_000_000]
        case 3: units = [3_600_000_000, 60_000_000, 1_000_000]
        case 4 where allowDays: units = [86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000]
        default: return nil
        }
        var total: Int64 = 0
        for (index, part) in parts.enumerated() {
            let isLast = index == parts.count - 1
            guard !part.isEmpty, isLast || !part.contains(".") else { return nil }
            if index > 0 {
                let whole = part.split(separator: ".", maxSplits: 1).first ?? ""
                guard whole.count == 2, let value = Int(whole), value < (index == 1 && parts.count == 4 ? 24 : 60)
                else { return nil }
            }
            guard let value = amount(part, units[index]), let sum = add(total, value) else { return nil }
            total = sum
        }
        return total
    }

    private func add(_ a: Int64, _ b: Int64) -> Int64? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (saturating ? .max : nil) : sum
    }
}
