import HTTPServer
import JSON
import Scheduling

/// The fields of a JSON object body, read one by one with a 400 that names the field and says
/// what it must be. Keys the route does not know are refused, so a typo is not ignored.
struct BodyFields {
    let object: JSONObject
    /// Where these fields sit, for messages: "" for the body itself, "flows[3]." inside it.
    let prefix: String

    init(_ object: JSONObject, known: [String], prefix: String = "") throws(HTTPError) {
        self.object = object
        self.prefix = prefix
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            let accepted = known.map { "\"\($0)\"" }.joined(separator: ", ")
            throw HTTPError(.badRequest, "'\(prefix)\(unknown)' is not a field here; accepted: \(accepted)")
        }
    }

    /// Whether `key` is given, and not as null.
    func has(_ key: String) -> Bool { object[key].map { !$0.isNull } ?? false }

    func string(_ key: String, maximumLength: Int = 200) throws(HTTPError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue, !text.isEmpty, text.unicodeScalars.count <= maximumLength else {
            throw HTTPError(.badRequest, "'\(prefix)\(key)' must be a non-empty string of at most \(maximumLength) characters, not \(value.kindDescription)")
        }
        return text
    }

    func requiredString(_ key: String, maximumLength: Int = 200) throws(HTTPError) -> String {
        guard let text = try string(key, maximumLength: maximumLength) else {
            throw HTTPError(.badRequest, "'\(prefix)\(key)' is required")
        }
        return text
    }

    func bool(_ key: String, fallback: Bool) throws(HTTPError) -> Bool {
        guard let value = object[key], !value.isNull else { return fallback }
        guard let flag = value.boolValue else { throw HTTPError(.badRequest, "'\(prefix)\(key)' must be true or false, not \(value.kindDescription)") }
        return flag
    }

    func integer(_ key: String, fallback: Int, range: ClosedRange<Int>) throws(HTTPError) -> Int {
        guard let value = object[key], !value.isNull else { return fallback }
        guard let number = value.intValue, range.contains(Int(number)) else {
            throw HTTPError(.badRequest, "'\(prefix)\(key)' must be an integer from \(range.lowerBound) to \(range.upperBound), not \(value.serialized().prefix(40))")
        }
        return Int(number)
    }

    func requiredInteger(_ key: String, range: ClosedRange<Int>) throws(HTTPError) -> Int {
        guard let value = object[key], !value.isNull else { throw HTTPError(.badRequest, "'\(prefix)\(key)' is required") }
        return try integer(key, fallback: range.lowerBound, range: range)
    }

    /// A JSON object, kept as given.
    func object(_ key: String) throws(HTTPError) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        guard value.objectValue != nil else { throw HTTPError(.badRequest, "'\(prefix)\(key)' must be an object, not \(value.kindDescription)") }
        return value
    }

    func fraction(_ key: String) throws(HTTPError) -> Double? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let number = value.doubleValue, (0...1).contains(number) else {
            throw HTTPError(.badRequest, "'\(prefix)\(key)' must be a number from 0 to 1, not \(value.serialized().prefix(40))")
        }
        return number
    }

    /// A duration such as `"30s"`, `"2 minutes"` or a number of seconds, within `range`.
    func duration(_ key: String, fallback: Duration, range: ClosedRange<Duration>) throws(HTTPError) -> Duration {
        guard let value = object[key], !value.isNull else { return fallback }
        let text = value.stringOrNumberText ?? ""
        guard let period = try? Period(parsing: text) else {
            throw HTTPError(.badRequest, "'\(prefix)\(key)' must be a duration such as \"30s\" or \"2 minutes\", not \(value.serialized().prefix(40))")
        }
        let duration = Duration.microseconds(period.microseconds)
        guard range.contains(duration) else {
            throw HTTPError(.badRequest, "'\(prefix)\(key)' must be from \(range.lowerBound) to \(range.upperBound), not \(text)")
        }
        return duration
    }

    func stringList(_ key: String, maximumCount: Int) throws(HTTPError) -> [String]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let items = value.arrayValue, !items.isEmpty, items.count <= maximumCount,
            case let names = items.compactMap(\.stringValue), names.count == items.count, names.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.count <= 200 })
        else {
            throw HTTPError(.badRequest, "'\(prefix)\(key)' must be a list of 1 to \(maximumCount) non-empty names, not \(value.serialized().prefix(60))")
        }
        return names
    }
}
