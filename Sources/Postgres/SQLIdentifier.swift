/// A table, column, schema or alias name that is safe to place in SQL text: it matches
/// `[A-Za-z_][A-Za-z0-9_]*` (at most 63 bytes, PostgreSQL's limit) and is always written
/// double-quoted, so a name can never end the identifier or start a keyword.
///
/// ```swift
/// let table = try SQLIdentifier(validating: "versions")                 // "versions"
/// let column = try SQLIdentifier(qualified: "versions.identifier")     // "versions"."identifier"
/// try SQLIdentifier(validating: "x; DROP TABLE y")                      // throws
/// ```
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The names, outermost first: `["public", "jobs"]` for `public.jobs`.
    public let parts: [String]

    public static let maximumLength = 63

    /// One name, checked against `[A-Za-z_][A-Za-z0-9_]*` and the length limit.
    public init(validating name: String) throws(SQLIdentifierError) {
        try Self.validate(name, in: name)
        parts = [name]
    }

    /// A dotted name such as `schema.table` or `table.column`, each part validated; at most three parts.
    public init(qualified name: String) throws(SQLIdentifierError) {
        let split = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(split.count) else {
            throw SQLIdentifierError(name: name, reason: "has more than three dotted parts")
        }
        for part in split { try Self.validate(part, in: name) }
        parts = split
    }

    /// `qualifier.name`, both already valid.
    public func qualifying(_ name: SQLIdentifier) -> SQLIdentifier {
        SQLIdentifier(parts: parts + name.parts)
    }

    /// The text placed into SQL: each part in double quotes, joined by dots.
    public var quoted: String {
        parts.map { "\"\($0)\"" }.joined(separator: ".")
    }

    /// The dotted name as written, unquoted.
    public var description: String { parts.joined(separator: ".") }

    private init(parts: [String]) {
        self.parts = parts
    }

    private static func validate(_ part: String, in name: String) throws(SQLIdentifierError) {
        guard !part.isEmpty else { throw SQLIdentifierError(name: name, reason: "has an empty name part") }
        guard part.utf8.count <= maximumLength else {
            throw SQLIdentifierError(name: name, reason: "is longer than \(maximumLength) characters")
        }
        for (index, byte) in part.utf8.enumerated() {
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            guard isLetter || byte == UInt8(ascii: "_") || (isDigit && index > 0) else {
                throw SQLIdentifierError(
                    name: name, reason: "may contain only letters, digits and '_', and may not start with a digit")
            }
        }
    }
}

/// A name refused by ``SQLIdentifier``; the message quotes it and says what is allowed.
public struct SQLIdentifierError: Error, Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let reason: String

    public var description: String { "\"\(name)\" is not a valid SQL name: it \(reason)" }
}
