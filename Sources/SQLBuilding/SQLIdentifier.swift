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
    /// The dotted name as written, unquoted: `versions.identifier`.
    public let description: String

    public static let maximumLength = 63

    /// The names, outermost first: `["public", "jobs"]` for `public.jobs`.
    public var parts: [String] { description.split(separator: ".").map(String.init) }

    /// The text placed into SQL: each part in double quotes, joined by dots.
    public var quoted: String {
        var bytes: [UInt8] = []
        writeQuoted(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One name, checked against `[A-Za-z_][A-Za-z0-9_]*` and the length limit.
    public init(validating name: String) throws(SQLIdentifierError) {
        try self.init(name, parts: 1)
    }

    /// A dotted name such as `schema.table` or `table.column`, each part validated; at most three parts.
    public init(qualified name: String) throws(SQLIdentifierError) {
        try self.init(name, parts: 3)
    }

    private init(_ name: String, parts maximumParts: Int) throws(SQLIdentifierError) {
        var contiguous = name
        // One pass over contiguous bytes: `$filter` compiles check thousands of names a second.
        let problem = contiguous.withUTF8 { Self.problem(in: $0, maximumParts: maximumParts) }
        if let problem { throw SQLIdentifierError(name: name, reason: problem) }
        description = name
    }

    /// `qualifier.name`, both already valid.
    public func qualifying(_ name: SQLIdentifier) -> SQLIdentifier {
        SQLIdentifier(checked: description + "." + name.description)
    }

    private init(checked description: String) {
        self.description = description
    }

    /// Appends `"a"."b"` for `a.b`: the parts are plain ASCII, so each dot becomes `"."`.
    func writeQuoted(into bytes: inout [UInt8]) {
        let quote = UInt8(ascii: "\"")
        bytes.append(quote)
        var name = description
        // Whole parts at a time, from contiguous bytes: names are most of a compiled filter.
        name.withUTF8 { utf8 in
            var partStart = 0
            for index in utf8.indices where utf8[index] == UInt8(ascii: ".") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[partStart..<index]))
                bytes.append(quote)
                bytes.append(UInt8(ascii: "."))
                bytes.append(quote)
                partStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[partStart...]))
        }
        bytes.append(quote)
    }

    /// What is wrong with `bytes` as a name of at most `maximumParts` dotted parts; nil when nothing is.
    private static func problem(in bytes: UnsafeBufferPointer<UInt8>, maximumParts: Int) -> String? {
        var parts = 1
        var partLength = 0
        for byte in bytes {
            if byte == UInt8(ascii: "."), maximumParts > 1 {
                guard partLength > 0 else { return "has an empty name part" }
                parts += 1
                guard parts <= maximumParts else { return "has more than three dotted parts" }
                partLength = 0
                continue
            }
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            guard isLetter || byte == UInt8(ascii: "_") || (isDigit && partLength > 0) else {
                return "may contain only letters, digits and '_', and may not start with a digit"
            }
            partLength += 1
            guard partLength <= maximumLength else { return "is longer than \(maximumLength) characters" }
        }
        return partLength > 0 ? nil : "has an empty name part"
    }
}

/// A name refused by ``SQLIdentifier``; the message quotes it and says what is allowed.
public struct SQLIdentifierError: Error, Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let reason: String

    public var description: String { "\"\(name)\" is not a valid SQL name: it \(reason)" }
}
