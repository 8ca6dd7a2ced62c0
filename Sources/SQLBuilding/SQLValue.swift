import Chronology
import Foundation
import JSON

/// One bound parameter: its type and its text in PostgreSQL's text format (nil is SQL NULL).
public struct SQLValue: Sendable, Hashable {
    public let type: PostgresType
    public let text: String?

    public init(type: PostgresType, text: String?) {
        self.type = type
        self.text = text
    }

    public static let null = SQLValue(type: .unknown, text: nil)
}

/// A Swift value that can be sent as a bound parameter. Interpolating one into ``SQL`` makes it
/// a `$n`; there is no other way for a value to reach the server.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension SQLValue: SQLBindable {
    public var sqlValue: SQLValue { self }
}

extension String: SQLBindable {
    /// Sent with an unknown type, so the server reads it as it would a quoted literal in that
    /// place: text for a text column, a timestamp where a timestamp is compared, and so on.
    public var sqlValue: SQLValue { SQLValue(type: .unknown, text: self) }
}

extension Substring: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .unknown, text: String(self)) }
}

extension Int: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .int8, text: String(self)) }
}

extension Int64: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .int8, text: String(self)) }
}

extension Int32: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .int4, text: String(self)) }
}

extension Double: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .float8, text: postgresText) }

    /// PostgreSQL's spelling: `NaN`, `Infinity`, `-Infinity`, else Swift's shortest exact text.
    var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension Bool: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .bool, text: self ? "t" : "f") }
}

extension Timestamp: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .timestamptz, text: postgresText) }
}

extension Date: SQLBindable {
    /// Sent as a `timestamptz` to the nearest microsecond (PostgreSQL's precision).
    public var sqlValue: SQLValue { Timestamp(self).sqlValue }
}

extension UUID: SQLBindable {
    public var sqlValue: SQLValue { SQLValue(type: .uuid, text: uuidString.lowercased()) }
}

extension JSONValue: SQLBindable {
    /// Sent as `json`, which keeps the text as written (key order included) where it is stored
    /// as `json`; a `jsonb` column takes it by its assignment cast. A JSON `null` is the JSON
    /// value null, not SQL NULL.
    public var sqlValue: SQLValue { SQLValue(type: .json, text: serialized()) }
}

extension JSONObject: SQLBindable {
    public var sqlValue: SQLValue { JSONValue.object(self).sqlValue }
}

/// An element type of an array parameter (`text[]`, `bigint[]`, ...), for multi-row writes such
/// as `INSERT ... SELECT * FROM unnest(\(ids), \(times))`.
public protocol SQLArrayElement: SQLBindable {
    static var arrayType: PostgresType { get }
}

extension String: SQLArrayElement { public static var arrayType: PostgresType { .textArray } }
extension Int: SQLArrayElement { public static var arrayType: PostgresType { .int8Array } }
extension Int64: SQLArrayElement { public static var arrayType: PostgresType { .int8Array } }
extension Int32: SQLArrayElement { public static var arrayType: PostgresType { .int4Array } }
extension Double: SQLArrayElement { public static var arrayType: PostgresType { .float8Array } }
extension Bool: SQLArrayElement { public static var arrayType: PostgresType { .boolArray } }
extension Timestamp: SQLArrayElement { public static var arrayType: PostgresType { .timestamptzArray } }
extension Date: SQLArrayElement { public static var arrayType: PostgresType { .timestamptzArray } }
extension UUID: SQLArrayElement { public static var arrayType: PostgresType { .uuidArray } }
extension JSONValue: SQLArrayElement { public static var arrayType: PostgresType { .jsonArray } }

extension Array: SQLBindable where Element: SQLBindable {
    /// Sent as a one-dimensional PostgreSQL array literal of the element type; a nil element
    /// of an `[T?]` is NULL.
    public var sqlValue: SQLValue {
        // A closure, not `\.sqlValue.text`: a key path in generic code is built at run time on
        // every call (measured: a tenth of the service's time on the flow board's writes).
        SQLValue(type: Self.arrayType, text: PostgresArrayLiteral.encode(map { $0.sqlValue.text }))
    }

    private static var arrayType: PostgresType {
        if let element = Element.self as? any SQLArrayElement.Type { return element.arrayType }
        if let wrapped = Element.self as? any OptionalSQLArrayElement.Type { return wrapped.wrappedArrayType }
        return .textArray
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? SQLValue(type: .unknown, text: nil) }
}

/// Lets `[Int?]` know it is a `bigint[]`.
protocol OptionalSQLArrayElement {
    static var wrappedArrayType: PostgresType { get }
}

extension Optional: OptionalSQLArrayElement where Wrapped: SQLArrayElement {
    static var wrappedArrayType: PostgresType { Wrapped.arrayType }
}
