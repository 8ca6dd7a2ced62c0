/// PostgreSQL's text form of arrays: `{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`.
package enum PostgresArrayLiteral {
    /// One parsed element: a value's text, NULL, or a nested dimension.
    package indirect enum Element: Equatable {
        case value(String)
        case null
        case array([Element])
    }

    /// A one-dimensional literal; every non-NULL element double-quoted with `"` and `\` escaped,
    /// which is valid for every element type.
    package static func encode(_ elements: [String?]) -> String {
        // Byte by byte: `"` and `\` are ASCII, so no UTF-8 sequence holds either, and a bulk
        // write encodes arrays of 10,000 elements.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let element else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses what the server sends, including an optional dimension prefix such as `[0:1]=`.
    /// Nil if the text is not an array literal (the caller reports the decoding error).
    package static func parse(_ text: String, delimiter: UInt8 = UInt8(ascii: ",")) -> [Element]? {
        var parser = Parser(bytes: Array(text.utf8), delimiter: delimiter)
        return parser.parseTop()
    }

    private struct Parser {
        let bytes: [UInt8]
        let delimiter: UInt8
        var position = 0

        mutating func parseTop() -> [Element]? {
            if bytes.first == UInt8(ascii: "[") {
                // Non-default lower bounds: "[0:1]={1,2}". The bounds do not change the elements.
                guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return nil }
                position = equals + 1
            }
            guard let elements = parseArray(), position == bytes.count else { return nil }
            return elements
        }

        private mutating func parseArray() -> [Element]? {
            guard consume(UInt8(ascii: "{")) else { return nil }
            var elements: [Element] = []
            if consume(UInt8(ascii: "}")) { return elements }
            while position < bytes.count {
                skipSpaces()
                if bytes[position] == UInt8(ascii: "{") {
                    guard let nested = parseArray() else { return nil }
                    elements.append(.array(nested))
                } else if bytes[position] == UInt8(ascii: "\"") {
                    guard let quoted = parseQuoted() else { return nil }
                    elements.append(.value(quoted))
                } else {
                    elements.append(parseUnquoted())
                }
                skipSpaces()
                if consume(delimiter) { continue }
                if consume(UInt8(ascii: "}")) { return elements }
                return nil
            }
            return nil
        }

        private mutating func parseQuoted() -> String? {
            position += 1
            var utf8: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: utf8, as: UTF8.self) }
                if byte == UInt8(ascii: "\\") {
                    guard position < bytes.count else { return nil }
                    utf8.append(bytes[position])
                    position += 1
                } else {
                    utf8.append(byte)
                }
            }
            return nil
        }

        private mutating func parseUnquoted() -> Element {
            let start = position
            while position < bytes.count, bytes[position] != delimiter, bytes[position] != UInt8(ascii: "}") {
                position += 1
            }
            var end = position
            while end > start, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            return text.uppercased() == "NULL" ? .null : .value(text)
        }

        private mutating func skipSpaces() {
            while position < bytes.count, bytes[position] == UInt8(ascii: " ") { position += 1 }
        }

        private mutating func consume(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }
    }
}
