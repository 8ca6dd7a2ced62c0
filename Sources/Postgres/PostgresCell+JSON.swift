import SQLBuilding
import JSON

extension PostgresCell {
    /// The value as JSON, whatever its type: how a `$filter` row reaches flow arguments.
    ///
    /// | PostgreSQL | JSON |
    /// | --- | --- |
    /// | NULL | null |
    /// | boolean | true / false |
    /// | smallint, integer, bigint, oid | an exact integer |
    /// | real, double precision | a number (NaN and infinities as strings) |
    /// | numeric | the exact digits (`12.50` stays `12.50`); NaN and infinities as strings |
    /// | json, jsonb | the document |
    /// | timestamptz, timestamp | ISO 8601 UTC: `2026-03-01T00:00:00.5Z`; ±infinity as strings |
    /// | arrays | arrays, element by element, nested for more dimensions |
    /// | anything else (date, uuid, text, enums, intervals) | the server's text |
    public var jsonValue: JSONValue {
        guard let text else { return .null }
        return Self.jsonValue(text: text, type: type)
    }

    static func jsonValue(text: String, type: PostgresType) -> JSONValue {
        switch type {
        case .bool:
            return .bool(text == "t")
        case .int2, .int4, .int8, .oidType:
            return Int64(text).map(JSONValue.int) ?? .decimal(text)
        case .float4, .float8:
            return Double(text).map(JSONValue.double) ?? .string(text)
        case .numeric:
            return isPlainDecimal(text) ? .decimal(text) : .string(text)
        case .json, .jsonb:
            return (try? JSONValue(parsing: text, maximumDepth: JSONValue.storedMaximumDepth, repeatedKeys: .lastWins)) ?? .string(text)
        case .timestamptz, .timestamp:
            return .string(PostgresTimestampText.parse(text)?.iso8601 ?? text)
        default:
            guard let elementType = type.elementType, let elements = PostgresArrayLiteral.parse(text) else {
                return .string(text)
            }
            return arrayValue(elements, elementType: elementType)
        }
    }

    private static func arrayValue(_ elements: [PostgresArrayLiteral.Element], elementType: PostgresType) -> JSONValue {
        .array(
            elements.map { element in
                switch element {
                case .null: return .null
                case .value(let text): return jsonValue(text: text, type: elementType)
                case .array(let nested): return arrayValue(nested, elementType: elementType)
                }
            })
    }

    /// `-12.50`, `3`, `1e5`: digits PostgreSQL writes for finite numerics, valid as JSON numbers.
    private static func isPlainDecimal(_ text: String) -> Bool {
        guard let first = text.utf8.first else { return false }
        return first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
    }
}
