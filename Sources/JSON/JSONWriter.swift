extension JSONValue {
    /// Layout of written JSON.
    public enum Layout: Sendable {
        /// No white space at all: `{"a":[1,2]}`. What the API sends.
        case compact
        /// Two-space indentation, one member per line, for people and golden files.
        case pretty
    }

    /// This value as JSON text, keys in their order. Non-ASCII text is written as UTF-8;
    /// control characters, `"` and `\` are escaped.
    public func serialized(_ layout: Layout = .compact) -> String {
        String(decoding: serializedBytes(layout), as: UTF8.self)
    }

    /// This value as UTF-8 JSON bytes; see ``serialized(_:)``.
    public func serializedBytes(_ layout: Layout = .compact) -> [UInt8] {
        var writer = JSONWriter(layout: layout)
        writer.write(self, indent: 0)
        return writer.output
    }
}

struct JSONWriter {
    let layout: JSONValue.Layout
    var output: [UInt8] = []

    init(layout: JSONValue.Layout) {
        self.layout = layout
        output.reserveCapacity(256)
    }

    mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .int(let integer): append(String(integer))
        case .double(let double): writeDouble(double)
        case .decimal(let text): append(text)
        case .string(let text): writeString(text)
        case .array(let elements):
            writeContainer(open: "[", close: "]", count: elements.count, indent: indent) { writer, index in
                writer.write(elements[index], indent: indent + 1)
            }
        case .object(let object):
            let keys = object.keys
            let values = object.values
            writeContainer(open: "{", close: "}", count: keys.count, indent: indent) { writer, index in
                writer.writeString(keys[index])
                writer.append(writer.layout == .pretty ? ": " : ":")
                writer.write(values[index], indent: indent + 1)
            }
        }
    }

    private mutating func writeContainer(
        open: String, close: String, count: Int, indent: Int,
        member: (inout JSONWriter, Int) -> Void
    ) {
        append(open)
        guard count > 0 else { return append(close) }
        for index in 0..<count {
            if index > 0 { append(",") }
            newline(indent + 1)
            member(&self, index)
        }
        newline(indent)
        append(close)
    }

    private mutating func newline(_ indent: Int) {
        guard layout == .pretty else { return }
        output.append(0x0A)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private mutating func writeDouble(_ double: Double) {
        // JSON has no spelling for these; a string keeps the value visible instead of failing.
        if double.isNaN { return writeString("NaN") }
        if double.isInfinite { return writeString(double < 0 ? "-Infinity" : "Infinity") }
        // Swift prints the shortest text that reads back to the same Double: 0.1, 1e+20, 1.0.
        append(double.description)
    }

    mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case 0..<0x20:
                append("\\u00")
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0xF))
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }
}
