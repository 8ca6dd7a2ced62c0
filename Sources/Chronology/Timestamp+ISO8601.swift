extension Timestamp {
    /// ISO 8601 in UTC with a `Z`: `2026-03-01T00:00:00Z`, or `2026-03-01T00:00:00.123456Z` when
    /// there is a fraction. Years outside 0000–9999 are written with a sign, as ISO 8601 extends them.
    public var iso8601: String {
        let civil = CivilTime(self)
        var text = CivilTime.yearText(civil.year) + "-" + pad2(civil.month) + "-" + pad2(civil.day)
        text += "T" + pad2(civil.hour) + ":" + pad2(civil.minute) + ":" + pad2(civil.second)
        if civil.microsecond != 0 { text += "." + pad(civil.microsecond, width: 6) }
        return text + "Z"
    }

    /// ISO 8601 in UTC to the millisecond, always with the fraction: `2026-03-01T00:00:00.123Z`,
    /// the fixed width log lines want.
    public var iso8601Milliseconds: String {
        let civil = CivilTime(self)
        var text = CivilTime.yearText(civil.year) + "-" + pad2(civil.month) + "-" + pad2(civil.day)
        text += "T" + pad2(civil.hour) + ":" + pad2(civil.minute) + ":" + pad2(civil.second)
        return text + "." + pad(civil.microsecond / 1000, width: 3) + "Z"
    }

    /// PostgreSQL's own text for a `timestamptz` in UTC: `2026-03-01 00:00:00.123456+00`,
    /// which the server reads back exactly whatever its `DateStyle`.
    public var postgresText: String {
        let civil = CivilTime(self)
        var text = CivilTime.yearText(civil.year) + "-" + pad2(civil.month) + "-" + pad2(civil.day)
        text += " " + pad2(civil.hour) + ":" + pad2(civil.minute) + ":" + pad2(civil.second)
        if civil.microsecond != 0 { text += "." + pad(civil.microsecond, width: 6) }
        return text + "+00"
    }
}

extension CivilTime {
    static func yearText(_ year: Int) -> String {
        if (0...9999).contains(year) { return pad(year, width: 4) }
        return (year < 0 ? "-" : "+") + pad(abs(year), width: 6)
    }
}

func pad2(_ value: Int) -> String { pad(value, width: 2) }

func pad(_ value: Int, width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
