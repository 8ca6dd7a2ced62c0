extension SQL {
    /// The statement with every value written in as a quoted literal, for people to read: debug
    /// output and logs. Never send it to the server; ``rendered()`` is what runs.
    ///
    /// ```swift
    /// let query: SQL = "SELECT * FROM \(table) WHERE name = \("O'Brien") LIMIT \(10)"
    /// query.readableText()   // SELECT * FROM "people" WHERE name = 'O''Brien' LIMIT 10
    /// ```
    public func readableText() -> String {
        text { _, value in value.literal }
    }
}

extension SQLValue {
    /// How the value would be written in SQL text: numbers and booleans bare, a value of unknown
    /// type as a string literal, any other type as a string literal cast to it.
    var literal: String {
        guard let text else { return "NULL" }
        switch type {
        case .int2, .int4, .int8, .numeric:
            return text
        case .float4, .float8:
            return Double(text)?.isFinite == true ? text : "\(Self.quoted(text))::\(type)"
        case .bool:
            return text == "t" ? "TRUE" : "FALSE"
        case .unknown:
            return Self.quoted(text)
        default:
            return "\(Self.quoted(text))::\(type)"
        }
    }

    /// `'…'` with each quote doubled; backslashes stay as they are, as they do in PostgreSQL's
    /// standard-conforming strings (the default since 9.1).
    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
