/// Why a text is not the JSON that was expected, and where: `line` and `column` count from 1,
/// the column in bytes.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int

    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String { "\(message) at line \(line), column \(column)" }
}

/// What a parse does with a name repeated within one object.
public enum RepeatedKeys: Sendable {
    /// An error naming the key: what a client sent is never silently dropped.
    case refused
    /// The last value wins, at the first one's position, as PostgreSQL's `jsonb` reads them:
    /// for `json` values read back from a database.
    case lastWins
}

extension JSONValue {
    /// The deepest nesting of arrays and objects a parse accepts unless told otherwise; deeper
    /// documents are refused rather than risking the stack.
    public static let defaultMaximumDepth = 512

    /// How deep a value read back from storage may nest: whatever was accepted when it was
    /// written must read back (PostgreSQL's `jsonb` itself keeps thousands of levels).
    public static let storedMaximumDepth = 4096

    /// Parses strict JSON (RFC 8259): one value, optionally surrounded by white space; no
    /// comments, trailing commas, `NaN` or leading zeros; strings must be valid UTF-8; a key
    /// repeated within one object as `repeatedKeys` says (refused by default).
    ///
    /// - Throws: ``JSONParseError`` naming what was wrong and its line and column.
    public init(
        parsing bytes: some Collection<UInt8>, maximumDepth: Int = JSONValue.defaultMaximumDepth, repeatedKeys: RepeatedKeys = .refused
    ) throws {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { try JSONParser.parse(buffer, maximumDepth: maximumDepth, repeatedKeys: repeatedKeys) }
        }
        if let contiguous {
            self = try contiguous.get()
        } else {
            let array = Array(bytes)
            self = try array.withUnsafeBufferPointer { buffer in
                try JSONParser.parse(buffer, maximumDepth: maximumDepth, repeatedKeys: repeatedKeys)
            }
        }
    }

    /// Parses strict JSON from a string; see ``init(parsing:maximumDepth:repeatedKeys:)-(some Collection<UInt8>,_,_)``.
    public init(parsing text: String, maximumDepth: Int = JSONValue.defaultMaximumDepth, repeatedKeys: RepeatedKeys = .refused) throws {
        var text = text
        self = try text.withUTF8 { buffer in
            try JSONParser.parse(buffer, maximumDepth: maximumDepth, repeatedKeys: repeatedKeys)
        }
    }
}

/// A recursive-descent parser over a byte buffer; one instance parses one document.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maximumDepth: Int
    private let repeatedKeys: RepeatedKeys
    private var position = 0
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int, repeatedKeys: RepeatedKeys) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
        self.repeatedKeys = repeatedKeys
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int, repeatedKeys: RepeatedKeys) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes, maximumDepth: maximumDepth, repeatedKeys: repeatedKeys)
        return try parser.parseDocument()
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected \(describeCurrent()) after the JSON value") }
        return value
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        position += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if consume(UInt8(ascii: "}")) {
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeCurrent()), expected a string key")
            }
            let keyStart = position
            let key = try parseString()
            // RFC 8259 §4 leaves repeated names to the reader; taking the last would silently
            // drop what the client also sent, so a repeat is refused, named where it stands.
            guard repeatedKeys == .lastWins || !object.contains(key: key) else {
                position = keyStart
                throw error("duplicate key \(JSONValue.string(key).serialized()) in one object")
            }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw error("unexpected \(describeCurrent()), expected ':'") }
            skipWhitespace()
            object[key] = try parseValue()
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "}")) else { throw error("unexpected \(describeCurrent()), expected ',' or '}'") }
            depth -= 1
            return .object(object)
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) {
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw error("unexpected \(describeCurrent()), expected ',' or ']'") }
            depth -= 1
            return .array(elements)
        }
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= maximumDepth else { throw error("nesting deeper than \(maximumDepth) levels") }
    }

    // MARK: Strings

    private mutating func parseString() throws(JSONParseError) -> String {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = try decodeUTF8(bytes[start..<position], at: start)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character U+\(hex4(UInt16(byte))) must be escaped in a string") }
            position += 1
        }
        var utf8 = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let text = try decodeUTF8(utf8[...], at: start)
                position += 1
                return text
            case UInt8(ascii: "\\"):
                try appendEscape(to: &utf8)
            case 0..<0x20:
                throw error("control character U+\(hex4(UInt16(byte))) must be escaped in a string")
            default:
                utf8.append(byte)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func appendEscape(to utf8: inout [UInt8]) throws(JSONParseError) {
        position += 1  // backslash
        guard position < bytes.count else { throw error("unterminated string") }
        let escape = bytes[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try parseHex4())
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("unpaired UTF-16 surrogate \\u\(hex4(UInt16(scalar)))") }
                position += 2
                let low = UInt32(try parseHex4())
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("unpaired UTF-16 surrogate \\u\(hex4(UInt16(scalar)))")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("unpaired UTF-16 surrogate \\u\(hex4(UInt16(scalar)))")
            }
            // Every value left is a valid scalar: surrogates were handled above.
            UTF8.encode(Unicode.Scalar(scalar)!) { utf8.append($0) }
        default:
            position -= 1
            throw error("invalid escape \\\(describeByte(escape)) in a string")
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        guard position + 4 <= bytes.count else { throw error("\\u must be followed by four hex digits") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("\\u must be followed by four hex digits")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    private func decodeUTF8(_ slice: some Collection<UInt8>, at start: Int) throws(JSONParseError) -> String {
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw error("string is not valid UTF-8", at: start)
        }
        return text
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        var isInteger = true
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            if position < bytes.count, isDigit(bytes[position]) { throw error("leading zeros are not allowed in a number", at: start) }
        } else {
            guard try consumeDigits() else { throw error("expected a digit", at: position) }
        }
        if consume(UInt8(ascii: ".")) {
            isInteger = false
            guard try consumeDigits() else { throw error("expected a digit after the decimal point") }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard try consumeDigits() else { throw error("expected a digit in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .int(integer) }
        if !isInteger, let double = Double(text), double.isFinite { return .double(double) }
        return .decimal(text)
    }

    private mutating func consumeDigits() throws(JSONParseError) -> Bool {
        let start = position
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        return position > start
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    // MARK: Small helpers

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func expectWord(_ word: StaticString) throws(JSONParseError) {
        let start = position
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for byte in expected {
            guard position < bytes.count, bytes[position] == byte else {
                throw error("unexpected \(describeCurrent(at: start)), expected a value", at: start)
            }
            position += 1
        }
    }

    private func describeCurrent(at offset: Int? = nil) -> String {
        let offset = offset ?? position
        guard offset < bytes.count else { return "end of input" }
        return describeByte(bytes[offset])
    }

    private func describeByte(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    private func hex4(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    private func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let offset = min(offset ?? position, bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return JSONParseError(message: message, line: line, column: offset - lineStart + 1)
    }
}
