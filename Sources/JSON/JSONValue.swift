/// A JSON document as one value: the type that PostgreSQL `jsonb`, YAML files and the HTTP API
/// all read into and write from.
///
/// Two promises set it apart from `JSONSerialization`:
/// - integers are exact: anything that fits 64 bits is an `.int`, never a trip through `Double`,
///   and a longer integer keeps its digits as a `.decimal`;
/// - objects keep their keys in the order they were read or inserted (see ``JSONObject``).
///
/// ```swift
/// let value = try JSONValue(parsing: #"{"b": 1, "a": 9223372036854775807}"#)
/// value["a"]            // .int(9223372036854775807)
/// value.serialized()    // {"b":1,"a":9223372036854775807}
/// ```
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A whole number that fits in 64 bits.
    case int(Int64)
    /// A number with a fraction or an exponent. Not finite values (YAML's `.inf`, `.nan`)
    /// can be held but JSON has no spelling for them: they are written as the strings
    /// `"Infinity"`, `"-Infinity"` and `"NaN"`.
    case double(Double)
    /// A number kept as its exact decimal text, written verbatim: an integer beyond 64 bits,
    /// or a PostgreSQL `numeric` that a `Double` would round.
    case decimal(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

// MARK: - Reading parts of a value

extension JSONValue {
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The value of any JSON number as a `Double` (a `.decimal` may round).
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .decimal(let text): return Double(text)
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// A string as it is, or a number as its JSON text: how a field that YAML may give as either
    /// (`periodically: 45`, `cron: "0 3 * * *"`) is read. Nil for anything else.
    public var stringOrNumberText: String? {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double, .decimal: return serialized()
        default: return nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The JSON name of this value's kind, for error messages: "an object", "a string", ...
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double, .decimal: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

// MARK: - Literals, so tests and defaults read like JSON

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String { serialized() }
}
