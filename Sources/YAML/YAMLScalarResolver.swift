import JSON

/// What an untagged plain scalar means, by the YAML 1.1 rules PyYAML applies (so a default-job
/// file reads as it did in fabric8):
///
/// | text | value |
/// | --- | --- |
/// | empty, `~`, `null`, `Null`, `NULL` | null |
/// | `true`/`yes`/`on`, `false`/`no`/`off` (lower, Capitalised or UPPER) | bool |
/// | `12`, `-3`, `1_000`, `0x1F`, `0o17` and old-style octal `017`, `0b101` | int |
/// | `1.5`, `-.5`, `1.0e+3`, `.inf`, `-.Inf`, `.nan` | float |
/// | anything else, including `1e3` (no dot) and dates | string |
///
/// Two YAML 1.1 forms are deliberately left as strings: sexagesimal numbers (`5:00:00` would
/// become 18000, silently turning a duration into a count of seconds) and timestamps (JSON has
/// no date type; Kairos parses `when` itself).
enum YAMLScalarResolver {
    static func resolve(_ text: String) -> JSONValue {
        if let special = specials[text] { return special }
        if let integer = integer(text) { return integer }
        if let float = float(text) { return .double(float) }
        return .string(text)
    }

    private static let specials: [String: JSONValue] = {
        var table: [String: JSONValue] = ["": .null, "~": .null]
        for word in ["null"] { table.merge(spellings(word, .null)) { $1 } }
        for word in ["true", "yes", "on"] { table.merge(spellings(word, .bool(true))) { $1 } }
        for word in ["false", "no", "off"] { table.merge(spellings(word, .bool(false))) { $1 } }
        for word in [".inf", "+.inf"] { table.merge(spellings(word, .double(.infinity))) { $1 } }
        table.merge(spellings("-.inf", .double(-.infinity))) { $1 }
        for spelling in [".nan", ".NaN", ".NAN"] { table[spelling] = .double(.nan) }
        return table
    }()

    /// `word`, `Word` and `WORD` (for `.inf`: `.inf`, `.Inf`, `.INF`).
    private static func spellings(_ word: String, _ value: JSONValue) -> [String: JSONValue] {
        let letterIndex = word.firstIndex(where: \.isLetter)!
        let capitalised = word[..<letterIndex] + word[letterIndex...].prefix(1).uppercased() + word[letterIndex...].dropFirst()
        return [word: value, String(capitalised): value, word.uppercased(): value]
    }

    /// A YAML 1.1 integer, or nil. Underscores are digit separators.
    static func integer(_ text: String) -> JSONValue? {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        let radix: Int
        var digits: Substring
        if body.hasPrefix("0x") {
            (radix, digits) = (16, body.dropFirst(2))
        } else if body.hasPrefix("0o") {
            (radix, digits) = (8, body.dropFirst(2))
        } else if body.hasPrefix("0b") {
            (radix, digits) = (2, body.dropFirst(2))
        } else if body.count > 1, body.hasPrefix("0") {
            (radix, digits) = (8, body.dropFirst())
        } else {
            (radix, digits) = (10, body)
        }
        let cleaned = digits.filter { $0 != "_" }
        guard !cleaned.isEmpty,
            cleaned.allSatisfy({ $0.isASCII && $0.hexDigitValue.map { $0 < radix } == true })
        else { return nil }
        if let magnitude = UInt64(cleaned, radix: radix) {
            if negative, magnitude <= UInt64(Int64.max) + 1 { return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)) }
            if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
        }
        // Beyond 64 bits: exact digits for decimal numbers; other bases are too odd to guess at.
        guard radix == 10 else { return nil }
        let trimmed = cleaned.drop { $0 == "0" }
        return .decimal((negative ? "-" : "") + (trimmed.isEmpty ? "0" : String(trimmed)))
    }

    /// A YAML 1.1 float with a dot (`1.5`, `.5`, `1.`, `1.0e+3`), or nil.
    static func float(_ text: String) -> Double? {
        var body = Substring(text)
        if let sign = body.first, sign == "-" || sign == "+" { body = body.dropFirst() }
        guard let dot = body.firstIndex(of: ".") else { return nil }
        let whole = body[..<dot]
        var fraction = body[body.index(after: dot)...]
        var exponent: Substring = ""
        if let e = fraction.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = fraction[fraction.index(after: e)...]
            fraction = fraction[..<e]
            // YAML 1.1 requires the exponent's sign.
            guard let sign = exponent.first, sign == "+" || sign == "-", exponent.count > 1,
                exponent.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
            else { return nil }
        }
        let isDigitOrUnderscore: (Character) -> Bool = { $0 == "_" || ($0.isASCII && $0.isNumber) }
        guard whole.allSatisfy(isDigitOrUnderscore), fraction.allSatisfy(isDigitOrUnderscore),
            whole.first.map({ $0 != "_" }) ?? true
        else { return nil }
        // `.5` needs fraction digits; `1.` needs whole digits.
        if whole.isEmpty && fraction.filter({ $0 != "_" }).isEmpty { return nil }
        return Double(text.filter { $0 != "_" })
    }
}
