/// A SQL statement whose values can only travel as bound parameters.
///
/// Written as a string literal with interpolations; the literal text is trusted source code, and
/// every interpolated value becomes a `$n` placeholder with its value sent apart from the text:
///
/// ```swift
/// let name = "'); DROP TABLE jobs; --"          // arrives as data, never as SQL
/// let query: SQL = "SELECT id FROM \(table) WHERE name = \(name) LIMIT \(10)"
/// query.rendered().text        // SELECT id FROM "jobs" WHERE name = $1 LIMIT $2
/// ```
///
/// There is no initializer from a runtime `String`: literal segments are `StaticString`s, so only
/// text written in the source becomes SQL. Names go in as ``SQLIdentifier``s, validated then
/// quoted; other statements as nested `SQL` fragments, numbered together at ``rendered()``.
public struct SQL: Sendable, ExpressibleByStringInterpolation {
    /// The statement's text as UTF-8, without its values.
    private(set) var bytes: [UInt8]
    /// Where each value goes: `bytes` offsets, ascending, one per element of `values`.
    private(set) var marks: [Int]
    private(set) var values: [SQLValue]

    public init(stringLiteral value: StaticString) {
        self = .empty
        append(value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self = stringInterpolation.sql
    }

    /// SQL text taken as it is, for migration files and nothing else: it is the one way to run
    /// text that was not written as a literal, so every use must be text the program ships.
    public init(unsafeUnchecked text: String) {
        self = .empty
        bytes.append(contentsOf: text.utf8)
    }

    private init(bytes: [UInt8], marks: [Int], values: [SQLValue]) {
        self.bytes = bytes
        self.marks = marks
        self.values = values
    }

    /// An empty statement, to build on with `+=` or the `append` methods.
    public static let empty = SQL(bytes: [], marks: [], values: [])

    public struct StringInterpolation: StringInterpolationProtocol {
        public typealias StringLiteralType = StaticString
        var sql = SQL.empty

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.bytes.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        /// Source text: trusted.
        public mutating func appendLiteral(_ literal: StaticString) {
            sql.append(literal)
        }

        /// A value: becomes the next `$n`; nil becomes a NULL parameter.
        public mutating func appendInterpolation<Value: SQLBindable>(_ value: Value?) {
            sql.append(value: value?.sqlValue ?? .null)
        }

        /// A name: validated when the ``SQLIdentifier`` was made, double-quoted here.
        public mutating func appendInterpolation(_ identifier: SQLIdentifier) {
            sql.append(identifier)
        }

        /// A fragment: its own values are renumbered in place.
        public mutating func appendInterpolation(_ fragment: SQL) {
            sql.append(contentsOf: fragment)
        }
    }

    // MARK: Building in place
    //
    // Generated statements (`$filter` compiles) append to one value: text is copied as bytes,
    // so building a statement allocates little more than its final text.

    /// Appends source text: trusted, as a literal is.
    public mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a validated name, double-quoted.
    public mutating func append(_ identifier: SQLIdentifier) {
        identifier.writeQuoted(into: &bytes)
    }

    /// Appends a value as the next `$n`.
    public mutating func append(value: some SQLBindable) {
        marks.append(bytes.count)
        values.append(value.sqlValue)
    }

    /// Appends a fragment; its values are renumbered in place.
    public mutating func append(contentsOf fragment: SQL) {
        let offset = bytes.count
        bytes.append(contentsOf: fragment.bytes)
        marks.append(contentsOf: fragment.marks.lazy.map { $0 + offset })
        values.append(contentsOf: fragment.values)
    }

    /// The text with `$1...$n` in order of appearance, and the values to bind to them.
    public func rendered() -> (text: String, parameters: [SQLValue]) {
        (text { index, _ in "$" + String(index + 1) }, values)
    }

    /// The text, with each value written by `write`: placeholders or, for people, literals.
    func text(writingValues write: (Int, SQLValue) -> String) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count + values.count * 4)
        var start = 0
        for (index, mark) in marks.enumerated() {
            text.append(contentsOf: bytes[start..<mark])
            text.append(contentsOf: write(index, values[index]).utf8)
            start = mark
        }
        text.append(contentsOf: bytes[start...])
        return String(decoding: text, as: UTF8.self)
    }

    /// `self` followed by `other`.
    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var joined = lhs
        joined.append(contentsOf: rhs)
        return joined
    }

    public static func += (lhs: inout SQL, rhs: SQL) {
        lhs.append(contentsOf: rhs)
    }

    /// The fragments with `separator` between them: `SQL.joined(columns, separator: ", ")`.
    public static func joined(_ fragments: some Sequence<SQL>, separator: SQL) -> SQL {
        var result = SQL.empty
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { result.append(contentsOf: separator) }
            result.append(contentsOf: fragment)
        }
        return result
    }
}
