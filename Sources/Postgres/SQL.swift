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
    enum Piece: Sendable {
        case text(String)
        case value(SQLValue)
    }

    private(set) var pieces: [Piece]

    public init(stringLiteral value: StaticString) {
        pieces = [.text(value.description)]
    }

    public init(stringInterpolation: StringInterpolation) {
        pieces = stringInterpolation.pieces
    }

    /// SQL text taken as it is, for migration files and nothing else: it is the one way to run
    /// text that was not written as a literal, so every use must be text the program ships.
    public init(unsafeUnchecked text: String) {
        pieces = [.text(text)]
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        public typealias StringLiteralType = StaticString
        var pieces: [Piece] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(interpolationCount * 2 + 1)
        }

        /// Source text: trusted.
        public mutating func appendLiteral(_ literal: StaticString) {
            pieces.append(.text(literal.description))
        }

        /// A value: becomes the next `$n`; nil becomes a NULL parameter.
        public mutating func appendInterpolation<Value: SQLBindable>(_ value: Value?) {
            pieces.append(.value(value?.sqlValue ?? .null))
        }

        /// A name: validated when the ``SQLIdentifier`` was made, double-quoted here.
        public mutating func appendInterpolation(_ identifier: SQLIdentifier) {
            pieces.append(.text(identifier.quoted))
        }

        /// A fragment: its own values are renumbered in place.
        public mutating func appendInterpolation(_ fragment: SQL) {
            pieces.append(contentsOf: fragment.pieces)
        }
    }

    /// The text with `$1...$n` in order of appearance, and the values to bind to them.
    public func rendered() -> (text: String, parameters: [SQLValue]) {
        var text = ""
        var parameters: [SQLValue] = []
        for piece in pieces {
            switch piece {
            case .text(let fragment):
                text += fragment
            case .value(let value):
                parameters.append(value)
                text += "$\(parameters.count)"
            }
        }
        return (text, parameters)
    }

    /// `self` followed by `other`.
    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var joined = lhs
        joined.pieces += rhs.pieces
        return joined
    }

    public static func += (lhs: inout SQL, rhs: SQL) {
        lhs.pieces += rhs.pieces
    }

    /// The fragments with `separator` between them: `SQL.joined(columns, separator: ", ")`.
    public static func joined(_ fragments: some Sequence<SQL>, separator: SQL) -> SQL {
        var result = SQL(pieces: [])
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { result += separator }
            result += fragment
        }
        return result
    }

    /// An empty statement, to build on with `+=`.
    public static let empty = SQL(pieces: [])

    private init(pieces: [Piece]) {
        self.pieces = pieces
    }
}
