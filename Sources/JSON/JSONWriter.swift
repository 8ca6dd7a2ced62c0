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
        writer.write(self)
        return writer.output
    }
}

/// Writes JSON into bytes. ``JSONValue/serialized(_:)`` uses it for whole values; a caller that
/// writes a known shape (a log line) can write it piece by piece, without building a value.
public struct JSONWriter {
    public let layout: JSONValue.Layout
    public var output: [UInt8] = []
    /// How deep the object or array being written is.
    private var depth = 0
    /// Whether that object or array has a member or element yet: the next needs a comma.
    private var hasMember = false

    public init(layout: JSONValue.Layout = .compact, reservingCapacity capacity: Int = 256) {
        self.layout = layout
        output.reserveCapacity(capacity)
    }

    /// Appends `value`; its arrays and objects as ``writeArray(of:_:)`` and ``writeObject(_:)-swift.method`` write them.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .int(let integer): append(String(integer))
        case .double(let double): writeDouble(double)
        case .decimal(let text): append(text)
        case .string(let text): writeString(text)
        case .array(let elements):
            writeArray(of: elements) { element, writer in writer.write(element) }
        case .object(let object):
            writeObject { writer in
                for index in object.keys.indices { writer.member(object.keys[index], object.values[index]) }
            }
        }
    }

    /// Appends `text` as it is: for punctuation and numbers the caller has already spelled.
    public mutating func writeRaw(_ text: String) { append(text) }

    /// Appends an integer.
    public mutating func writeInteger(_ number: Int64) { append(String(number)) }

    /// Appends an object whose members `members` says, piece by piece (see ``JSONMemberSink``).
    public mutating func writeObject(_ members: (inout JSONWriter) -> Void) {
        writeContainer(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { members(&$0) }
    }

    /// Appends `value`'s members as an object.
    public mutating func writeObject(_ value: some JSONObjectRepresentable) {
        writeObject { value.writeMembers(into: &$0) }
    }

    /// Appends an array with one element per element of `elements`, each written by `element`.
    public mutating func writeArray<Elements: Sequence>(of elements: Elements, _ element: (Elements.Element, inout JSONWriter) -> Void) {
        writeContainer(open: UInt8(ascii: "["), close: UInt8(ascii: "]")) { writer in
            for each in elements {
                writer.beginElement()
                element(each, &writer)
            }
        }
    }

    private mutating func writeContainer(open: UInt8, close: UInt8, _ body: (inout JSONWriter) -> Void) {
        let outerHasMember = hasMember
        output.append(open)
        hasMember = false
        depth += 1
        body(&self)
        depth -= 1
        if hasMember { newline(depth) }
        output.append(close)
        hasMember = outerHasMember
    }

    /// The comma and line before a member of the object being written piece by piece, and its key.
    mutating func beginMember(_ key: String) {
        beginElement()
        writeString(key)
        append(layout == .pretty ? ": " : ":")
    }

    private mutating func beginElement() {
        if hasMember { output.append(UInt8(ascii: ",")) }
        hasMember = true
        newline(depth)
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

    /// Appends `text` as a JSON string, quoted and escaped.
    public mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        writeStringContents(text)
        output.append(UInt8(ascii: "\""))
    }

    /// Appends `text` escaped as inside a JSON string, without the quotes: for a string the
    /// caller writes in pieces.
    public mutating func writeStringContents(_ text: String) {
        // Most text needs no escape: copy it whole, in one go, when a scan finds none.
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.contains(where: Self.needsEscape) else { return false }
            output.append(contentsOf: bytes)
            return true
        }
        if copied == true { return }
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
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }
}

extension JSONValue {
    /// The length in bytes of ``serialized(_:)`` with the compact layout, counted without
    /// writing it: what a size limit checks.
    public var compactByteCount: Int {
        switch self {
        case .null: return 4
        case .bool(let flag): return flag ? 4 : 5
        case .int(let integer): return String(integer).utf8.count
        case .double(let double):
            if double.isNaN { return 5 }
            if double.isInfinite { return double < 0 ? 11 : 10 }
            return double.description.utf8.count
        case .decimal(let text): return text.utf8.count
        case .string(let text): return Self.compactByteCount(of: text)
        case .array(let elements):
            // Brackets and commas, then the elements.
            var total = 1 + max(1, elements.count)
            for index in elements.indices { total += elements[index].compactByteCount }
            return total
        case .object(let object):
            // Braces, commas and colons, then the members.
            var total = 1 + max(1, object.count) + object.count
            for index in object.keys.indices {
                total += Self.compactByteCount(of: object.keys[index]) + object.values[index].compactByteCount
            }
            return total
        }
    }

    /// A string's quoted, escaped length, as ``JSONWriter/writeString(_:)`` writes it.
    private static func compactByteCount(of text: String) -> Int {
        // Contiguous UTF-8 (every native string) makes this a tight loop over bytes.
        text.utf8.withContiguousStorageIfAvailable(compactByteCount(ofUTF8:)) ?? compactByteCount(ofUTF8: Array(text.utf8))
    }

    private static func compactByteCount(ofUTF8 bytes: some Collection<UInt8>) -> Int {
        var total = 2 + bytes.count
        for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: total += 1
            default: total += 5
            }
        }
        return total
    }
}
