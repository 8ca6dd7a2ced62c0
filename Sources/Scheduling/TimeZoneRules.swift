import Chronology

/// A time zone's UTC offsets over time, read from a TZif file (RFC 8536) as the system's tz
/// database (Debian's `tzdata`) ships it: the transitions it lists, then the POSIX TZ rule in its
/// footer for the years after them. Pure: ``TimeZoneDatabase`` reads the files.
public struct TimeZoneRules: Sendable {
    public let name: String
    /// UTC seconds at which a new offset begins, ascending.
    let transitions: [Int64]
    /// The offset (seconds east of UTC) in effect from `transitions[i]`.
    let offsetsFrom: [Int32]
    /// The offset before the first transition (local time type 0).
    let initialOffset: Int32
    /// For instants after the last transition.
    let rule: PosixTimeZoneRule?

    public static let utc = TimeZoneRules(name: "UTC", transitions: [], offsetsFrom: [], initialOffset: 0, rule: nil)

    init(name: String, transitions: [Int64], offsetsFrom: [Int32], initialOffset: Int32, rule: PosixTimeZoneRule?) {
        self.name = name
        self.transitions = transitions
        self.offsetsFrom = offsetsFrom
        self.initialOffset = initialOffset
        self.rule = rule
    }

    /// Reads a TZif file (version 1, 2, 3 or 4).
    /// - Throws: ``SchedulingError`` when the bytes are not one.
    public init(name: String, tzif bytes: [UInt8]) throws(SchedulingError) {
        var reader = TZifReader(bytes: bytes)
        let bad = SchedulingError("the time zone file for \"\(name)\" is not a TZif file")
        guard let v1 = reader.header() else { throw bad }
        var header = v1
        var timeSize = 4
        if v1.version >= 2 {
            // The version 1 block is for old readers; the 64-bit block after it is the whole truth.
            guard reader.skip(v1.dataSize(timeSize: 4)), let v2 = reader.header() else { throw bad }
            header = v2
            timeSize = 8
        }
        var transitions: [Int64] = []
        transitions.reserveCapacity(header.timeCount)
        for _ in 0..<header.timeCount {
            guard let time = reader.signed(bytes: timeSize) else { throw bad }
            transitions.append(time)
        }
        var typeIndexes: [Int] = []
        for _ in 0..<header.timeCount {
            guard let index = reader.signed(bytes: 1).map({ Int(UInt8(truncatingIfNeeded: $0)) }) else { throw bad }
            typeIndexes.append(index)
        }
        var offsets: [Int32] = []
        for _ in 0..<header.typeCount {
            guard let offset = reader.signed(bytes: 4), reader.skip(2) else { throw bad }
            offsets.append(Int32(truncatingIfNeeded: offset))
        }
        // Leap-second files (tzdata's `right/`) count leap seconds in their times: not civil time.
        guard header.leapCount == 0 else { throw SchedulingError("the time zone file for \"\(name)\" counts leap seconds; use the zone's own name") }
        guard !offsets.isEmpty, typeIndexes.allSatisfy({ $0 < offsets.count }),
            reader.skip(header.charCount + header.leapCount * (timeSize + 4) + header.standardCount + header.utCount)
        else { throw bad }
        var rule: PosixTimeZoneRule?
        if timeSize == 8, let footer = reader.footer(), !footer.isEmpty {
            rule = PosixTimeZoneRule(parsing: footer)
        }
        self.init(
            name: name, transitions: transitions, offsetsFrom: typeIndexes.map { offsets[$0] }, initialOffset: offsets[0], rule: rule)
    }

    /// Seconds east of UTC in effect at `instant` (UTC seconds).
    public func offset(at instant: Int64) -> Int32 {
        if let rule, instant >= transitions.last ?? Int64.min { return rule.offset(at: instant) }
        return lastIndex(atOrBefore: instant).map { offsetsFrom[$0] } ?? initialOffset
    }

    /// The first instant after `instant` at which the offset changes; nil if it never does again.
    public func transition(after instant: Int64) -> Int64? {
        if var index = firstIndex(after: instant) {
            // A listed transition that keeps the offset (it renames the zone, or flips the DST flag) is no change here.
            while index < transitions.count {
                let before = index == 0 ? initialOffset : offsetsFrom[index - 1]
                if offsetsFrom[index] != before { return transitions[index] }
                index += 1
            }
        }
        guard let rule, rule.hasDaylightTime else { return nil }
        return rule.transition(after: max(instant, transitions.last ?? instant))
    }

    /// The latest instant at or before `instant` at which the offset changed; nil if none.
    public func transition(atOrBefore instant: Int64) -> Int64? {
        if let rule, rule.hasDaylightTime, case let last = transitions.last ?? Int64.min, instant >= last,
            let fromRule = rule.transition(atOrBefore: instant), fromRule > last
        {
            return fromRule
        }
        guard var index = lastIndex(atOrBefore: instant) else { return nil }
        while index >= 0 {
            let before = index == 0 ? initialOffset : offsetsFrom[index - 1]
            if offsetsFrom[index] != before { return transitions[index] }
            index -= 1
        }
        return nil
    }

    private func lastIndex(atOrBefore instant: Int64) -> Int? {
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= instant { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    private func firstIndex(after instant: Int64) -> Int? {
        let index = (lastIndex(atOrBefore: instant) ?? -1) + 1
        return index < transitions.count ? index : nil
    }
}

/// The bytes of a TZif file, read forward.
private struct TZifReader {
    struct Header {
        var version: Int
        var utCount, standardCount, leapCount, timeCount, typeCount, charCount: Int
        func dataSize(timeSize: Int) -> Int {
            timeCount * timeSize + timeCount + typeCount * 6 + charCount + leapCount * (timeSize + 4) + standardCount + utCount
        }
    }

    let bytes: [UInt8]
    var position = 0

    mutating func header() -> Header? {
        guard position + 44 <= bytes.count, bytes[position..<position + 4].elementsEqual("TZif".utf8) else { return nil }
        let versionByte = bytes[position + 4]
        let version = versionByte == 0 ? 1 : Int(versionByte) - 0x30
        position += 20
        var counts: [Int] = []
        for _ in 0..<6 {
            guard let count = signed(bytes: 4), count >= 0, count < 1_000_000 else { return nil }
            counts.append(Int(count))
        }
        return Header(
            version: version, utCount: counts[0], standardCount: counts[1], leapCount: counts[2], timeCount: counts[3],
            typeCount: counts[4], charCount: counts[5])
    }

    mutating func signed(bytes count: Int) -> Int64? {
        guard position + count <= bytes.count else { return nil }
        var value: UInt64 = 0
        for byte in bytes[position..<position + count] { value = value << 8 | UInt64(byte) }
        position += count
        let shift = UInt64(64 - count * 8)
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, position + count <= bytes.count else { return false }
        position += count
        return true
    }

    /// The POSIX TZ string between the two newlines that end a version 2+ file.
    mutating func footer() -> String? {
        guard position < bytes.count, bytes[position] == 0x0A else { return nil }
        guard let end = bytes[(position + 1)...].firstIndex(of: 0x0A) else { return nil }
        return String(decoding: bytes[(position + 1)..<end], as: UTF8.self)
    }
}

/// A POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3` or `<+1030>-10:30<+11>-11,M10.1.0,M4.1.0`:
/// a standard offset and, optionally, a daylight offset with the yearly rule that switches them.
struct PosixTimeZoneRule: Sendable, Hashable {
    /// Seconds east of UTC (the TZ string writes them west, with the opposite sign).
    let standardOffset: Int32
    let daylightOffset: Int32?
    let start: DateRule?
    let end: DateRule?

    var hasDaylightTime: Bool { daylightOffset != nil && start != nil && end != nil }

    /// A day of the year and a local time (seconds, possibly negative or past 24 h, as version 3 allows).
    struct DateRule: Sendable, Hashable {
        enum Day: Sendable, Hashable {
            /// `Jn`: 1...365, February 29 never counted.
            case julianNoLeap(Int)
            /// `n`: 0...365, counting February 29.
            case zeroBased(Int)
            /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = the last) of month `m`.
            case monthWeekDay(month: Int, week: Int, weekday: Int)
        }
        let day: Day
        let time: Int64

        /// Days since 1970-01-01 of this rule's date in `year`.
        func days(in year: Int) -> Int64 {
            switch day {
            case .julianNoLeap(let n):
                let leapShift = CivilTime.isLeap(year) && n >= 60 ? 1 : 0
                return Int64(CivilTime.days(fromYear: year, month: 1, day: 1) + n - 1 + leapShift)
            case .zeroBased(let n):
                return Int64(CivilTime.days(fromYear: year, month: 1, day: 1) + n)
            case .monthWeekDay(let month, let week, let weekday):
                let first = CivilTime.days(fromYear: year, month: month, day: 1)
                let firstWeekday = CivilTime.weekday(ofDays: Int64(first))
                var day = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
                let length = CivilTime.daysIn(month: month, year: year)
                while day > length { day -= 7 }
                return Int64(first + day - 1)
            }
        }
    }

    /// The UTC instants at which daylight time starts and ends in `year`.
    func switches(in year: Int) -> (start: Int64, end: Int64)? {
        guard let daylightOffset, let start, let end else { return nil }
        let startAt = start.days(in: year) * 86_400 + start.time - Int64(standardOffset)
        let endAt = end.days(in: year) * 86_400 + end.time - Int64(daylightOffset)
        return (startAt, endAt)
    }

    func offset(at instant: Int64) -> Int32 {
        guard let daylightOffset, let (start, end) = switches(in: Self.year(of: instant)) else { return standardOffset }
        let daylight = start < end ? instant >= start && instant < end : !(instant >= end && instant < start)
        return daylight ? daylightOffset : standardOffset
    }

    func transition(after instant: Int64) -> Int64? {
        let year = Self.year(of: instant)
        for candidateYear in year - 1...year + 1 {
            guard let (start, end) = switches(in: candidateYear) else { return nil }
            let times = [start, end].sorted()
            if let first = times.first(where: { $0 > instant }) { return first }
        }
        return nil
    }

    func transition(atOrBefore instant: Int64) -> Int64? {
        let year = Self.year(of: instant)
        for candidateYear in stride(from: year + 1, through: year - 1, by: -1) {
            guard let (start, end) = switches(in: candidateYear) else { return nil }
            let times = [start, end].sorted(by: >)
            if let first = times.first(where: { $0 <= instant }) { return first }
        }
        return nil
    }

    private static func year(of instant: Int64) -> Int { CivilTime.civil(fromDays: instant.floorDividedBy(86_400).quotient).year }

    /// Nil when the text is not a TZ string this reader knows.
    init?(parsing text: String) {
        var scanner = Scanner(Array(text.utf8))
        guard scanner.name(), let standard = scanner.offset() else { return nil }
        standardOffset = Int32(-standard)
        guard !scanner.atEnd else {
            (daylightOffset, start, end) = (nil, nil, nil)
            return
        }
        guard scanner.name() else { return nil }
        if let daylight = scanner.offset() { daylightOffset = Int32(-daylight) } else { daylightOffset = standardOffset + 3600 }
        guard scanner.take(","), let start = scanner.dateRule(), scanner.take(","), let end = scanner.dateRule(), scanner.atEnd else {
            return nil
        }
        self.start = start
        self.end = end
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[position] }

        mutating func take(_ character: Character) -> Bool {
            guard let peek, peek == character.asciiValue else { return false }
            position += 1
            return true
        }

        /// `CET` or `<+1030>`.
        mutating func name() -> Bool {
            if take("<") {
                while let peek, peek != UInt8(ascii: ">") { position += 1 }
                return take(">")
            }
            let start = position
            while let peek, (peek | 0x20) >= UInt8(ascii: "a"), (peek | 0x20) <= UInt8(ascii: "z") { position += 1 }
            return position - start >= 3
        }

        mutating func number() -> Int64? {
            let start = position
            var value: Int64 = 0
            while let peek, peek >= 0x30, peek <= 0x39, position - start < 3 {
                value = value * 10 + Int64(peek - 0x30)
                position += 1
            }
            return position > start ? value : nil
        }

        /// `[+-]hh[:mm[:ss]]`, in seconds.
        mutating func offset() -> Int64? {
            let saved = position
            var sign: Int64 = 1
            if take("-") { sign = -1 } else { _ = take("+") }
            guard let hours = number() else {
                position = saved
                return nil
            }
            var seconds = hours * 3600
            if take(":") {
                guard let minutes = number() else { return nil }
                seconds += minutes * 60
                if take(":") {
                    guard let secs = number() else { return nil }
                    seconds += secs
                }
            }
            return sign * seconds
        }

        mutating func dateRule() -> DateRule? {
            let day: DateRule.Day
            if take("M") {
                guard let month = number(), take("."), let week = number(), take("."), let weekday = number(),
                    (1...12).contains(month), (1...5).contains(week), (0...6).contains(weekday)
                else { return nil }
                day = .monthWeekDay(month: Int(month), week: Int(week), weekday: Int(weekday))
            } else if take("J") {
                guard let n = number(), (1...365).contains(n) else { return nil }
                day = .julianNoLeap(Int(n))
            } else {
                guard let n = number(), (0...365).contains(n) else { return nil }
                day = .zeroBased(Int(n))
            }
            var time: Int64 = 7200
            if take("/") {
                guard let given = offset() else { return nil }
                time = given
            }
            return DateRule(day: day, time: time)
        }
    }
}
