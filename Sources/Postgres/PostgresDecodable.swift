import SQLBuilding
import Chronology
import Foundation
import JSON

/// One value of a result: its text in PostgreSQL's text format (nil for NULL) and its type.
public struct PostgresCell: Sendable {
    public let text: String?
    public let type: PostgresType
    public let columnName: String

    /// The decoding error for this cell: names the column, its PostgreSQL type and the Swift type.
    func mismatch<T>(_ swiftType: T.Type, _ reason: String? = nil) -> PostgresError {
        var message = "column \"\(columnName)\" of type \(type) cannot be read as \(swiftType)"
        if let reason { message += ": \(reason)" }
        return PostgresError(kind: .decoding, message: message)
    }

    /// The text, or the error for reading NULL into a non-optional `T`.
    func requireText<T>(for swiftType: T.Type) throws(PostgresError) -> String {
        guard let text else {
            throw PostgresError(
                kind: .decoding,
                message: "column \"\(columnName)\" is NULL; read it as \(swiftType)? to accept NULL")
        }
        return text
    }

    func require<T>(_ swiftType: T.Type, from accepted: [PostgresType]) throws(PostgresError) -> String {
        guard accepted.contains(type) else { throw mismatch(swiftType) }
        return try requireText(for: swiftType)
    }
}

/// A Swift type that a column can be read as.
public protocol PostgresDecodable {
    static func decode(from cell: PostgresCell) throws(PostgresError) -> Self
}

// Arrays, not sets: every cell read asks one of them, and a scan of a few integers costs less
// than hashing a type.
private let integerTypes: [PostgresType] = [.int2, .int4, .int8, .oidType]
private let textTypes: [PostgresType] = [.text, .varchar, .bpchar, .name, .char, .unknown]
private let timestampTypes: [PostgresType] = [.timestamptz, .timestamp, .date]
private let numberTypes: [PostgresType] = integerTypes + [.float4, .float8, .numeric]

extension PostgresCell {
    /// An integer column as `T`, refusing values out of `T`'s range.
    func integer<T: FixedWidthInteger>(_ type: T.Type) throws(PostgresError) -> T {
        let text = try require(T.self, from: integerTypes)
        guard let wide = Int64(text) else { throw mismatch(T.self, "\"\(text)\" is not an integer") }
        guard let value = T(exactly: wide) else { throw mismatch(T.self, "\(wide) is out of range") }
        return value
    }
}

extension Int64: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Int64 { try cell.integer(Int64.self) }
}

extension Int: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Int { try cell.integer(Int.self) }
}

extension Int32: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Int32 { try cell.integer(Int32.self) }
}

extension Double: PostgresDecodable {
    /// Reads floating point, numeric and integer columns (numeric may round).
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Double {
        let text = try cell.require(Double.self, from: numberTypes)
        guard let value = Double(text) else { throw cell.mismatch(Double.self, "\"\(text)\" is not a number") }
        return value
    }
}

extension Bool: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Bool {
        let text = try cell.require(Bool.self, from: [.bool])
        return text == "t"
    }
}

extension String: PostgresDecodable {
    /// Reads text types, and types this module does not know (enums), as their text.
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> String {
        guard textTypes.contains(cell.type) || !PostgresType.isKnown(cell.type) else { throw cell.mismatch(String.self) }
        return try cell.requireText(for: String.self)
    }
}

extension Timestamp: PostgresDecodable {
    /// Reads `timestamptz`, `timestamp` (as UTC) and `date` (as its midnight UTC).
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Timestamp {
        let text = try cell.require(Timestamp.self, from: timestampTypes)
        guard let value = PostgresTimestampText.parse(text) else {
            throw cell.mismatch(Timestamp.self, "\"\(text)\" has no finite UTC instant")
        }
        return value
    }
}

extension Date: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Date {
        guard timestampTypes.contains(cell.type) else { throw cell.mismatch(Date.self) }
        return try Timestamp.decode(from: cell).date
    }
}

extension UUID: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> UUID {
        let text = try cell.require(UUID.self, from: [.uuid])
        guard let value = UUID(uuidString: text) else { throw cell.mismatch(UUID.self, "\"\(text)\" is not a UUID") }
        return value
    }
}

extension JSONValue: PostgresDecodable {
    /// Reads json and jsonb as the document they hold, and any other type as ``PostgresCell/jsonValue``
    /// does; NULL is `.null` (read `JSONValue?` to tell SQL NULL apart).
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> JSONValue {
        guard cell.type == .json || cell.type == .jsonb, let text = cell.text else { return cell.jsonValue }
        do {
            return try JSONValue(parsing: text, maximumDepth: JSONValue.storedMaximumDepth, repeatedKeys: .lastWins)
        } catch {
            throw cell.mismatch(JSONValue.self, "\(error)")
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Wrapped? {
        guard cell.text != nil else { return nil }
        return try Wrapped.decode(from: cell)
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Reads a one-dimensional array column; each element is decoded as `Element` (use an
    /// optional element type for arrays that hold NULLs).
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> [Element] {
        guard let elementType = cell.type.elementType else { throw cell.mismatch([Element].self, "not an array") }
        let text = try cell.requireText(for: [Element].self)
        guard let parsed = PostgresArrayLiteral.parse(text) else {
            throw cell.mismatch([Element].self, "\"\(text)\" is not an array literal")
        }
        var result: [Element] = []
        result.reserveCapacity(parsed.count)
        for element in parsed {
            let elementText: String?
            switch element {
            case .value(let value): elementText = value
            case .null: elementText = nil
            case .array: throw cell.mismatch([Element].self, "it has more than one dimension")
            }
            result.append(try Element.decode(from: PostgresCell(text: elementText, type: elementType, columnName: cell.columnName)))
        }
        return result
    }
}

extension PostgresType {
    private static let known: Set<PostgresType> = [
        .bool, .bytea, .int8, .int2, .int4, .oidType, .json, .float4, .float8, .date, .time, .timestamp,
        .timestamptz, .interval, .numeric, .uuid, .jsonb,
    ]

    /// Whether this module knows the type as something other than text.
    static func isKnown(_ type: PostgresType) -> Bool {
        known.contains(type) || type.elementType != nil
    }
}
