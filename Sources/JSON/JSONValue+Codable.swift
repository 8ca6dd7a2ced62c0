/// `Codable`, so a `JSONValue` can sit inside types that Foundation's `JSONEncoder` and
/// `JSONDecoder` handle. Integers stay exact (`Int64` is tried before `Double`).
///
/// Foundation's decoder reads objects into a dictionary, so key order survives only
/// ``JSONValue/init(parsing:maximumDepth:)-(String,_)``, which the wire and the database use.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if var elements = try? decoder.unkeyedContainer() {
            var array: [JSONValue] = []
            while !elements.isAtEnd { array.append(try elements.decode(JSONValue.self)) }
            self = .array(array)
            return
        }
        if let members = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var object = JSONObject()
            for key in members.allKeys { object[key.stringValue] = try members.decode(JSONValue.self, forKey: key) }
            self = .object(object)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? single.decode(Int64.self) {
            self = .int(integer)
        } else if let double = try? single.decode(Double.self) {
            self = .double(double)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let object):
            var container = encoder.container(keyedBy: AnyCodingKey.self)
            for (key, value) in object { try container.encode(value, forKey: AnyCodingKey(key)) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let flag): try container.encode(flag)
            case .int(let integer): try container.encode(integer)
            case .double(let double): try container.encode(double)
            // A Decimal could round an integer beyond 64 bits; the text is the exact value.
            case .decimal(let text): try container.encode(text)
            case .string(let text): try container.encode(text)
            case .array, .object: preconditionFailure("handled above")
            }
        }
    }
}

struct AnyCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}
