/// Where the members of a JSON object go as a type says them: into a ``JSONObject`` being built,
/// or straight into the bytes of a ``JSONWriter``. A type that shows itself as an object says its
/// members once (``JSONObjectRepresentable``) and gets both: a value to test and to merge, and
/// bytes for an answer of a thousand of them without a tree of values in between.
///
/// ```swift
/// extension Point: JSONObjectRepresentable {
///     func writeMembers(into members: inout some JSONMemberSink) {
///         members.member("x", x)
///         members.member("label", label)    // a nil String? is null
///     }
/// }
/// point.jsonObject                          // {"x": 1, "label": null} as a JSONObject
/// writer.writeObject(point)                 // the same, as bytes
/// ```
public protocol JSONMemberSink {
    mutating func member(_ key: String, _ value: JSONValue)
    /// A string, or null for nil.
    mutating func member(_ key: String, _ text: String?)
    /// An integer, or null for nil.
    mutating func member(_ key: String, _ number: Int64?)
    /// An object whose members `members` says.
    mutating func member(_ key: String, object members: (inout Self) -> Void)
    /// An array of objects, each element's members said by `members`.
    mutating func member<Elements: Sequence>(
        _ key: String, objects elements: Elements, _ members: (Elements.Element, inout Self) -> Void)
}

/// A type shown as a JSON object: it says its members once, to any ``JSONMemberSink``.
public protocol JSONObjectRepresentable {
    func writeMembers(into members: inout some JSONMemberSink)
}

extension JSONObjectRepresentable {
    /// The members as a value.
    public var jsonObject: JSONObject {
        var object = JSONObject()
        writeMembers(into: &object)
        return object
    }
}

extension JSONObject: JSONMemberSink {
    public mutating func member(_ key: String, _ value: JSONValue) { self[key] = value }

    public mutating func member(_ key: String, _ text: String?) { self[key] = text.map(JSONValue.string) ?? .null }

    public mutating func member(_ key: String, _ number: Int64?) { self[key] = number.map(JSONValue.int) ?? .null }

    public mutating func member(_ key: String, object members: (inout JSONObject) -> Void) {
        var object = JSONObject()
        members(&object)
        self[key] = .object(object)
    }

    public mutating func member<Elements: Sequence>(
        _ key: String, objects elements: Elements, _ members: (Elements.Element, inout JSONObject) -> Void
    ) {
        self[key] = .array(
            elements.map { element in
                var object = JSONObject()
                members(element, &object)
                return .object(object)
            })
    }
}

extension JSONWriter: JSONMemberSink {
    public mutating func member(_ key: String, _ value: JSONValue) {
        beginMember(key)
        write(value)
    }

    public mutating func member(_ key: String, _ text: String?) {
        beginMember(key)
        if let text { writeString(text) } else { writeRaw("null") }
    }

    public mutating func member(_ key: String, _ number: Int64?) {
        beginMember(key)
        if let number { writeInteger(number) } else { writeRaw("null") }
    }

    public mutating func member(_ key: String, object members: (inout JSONWriter) -> Void) {
        beginMember(key)
        writeObject(members)
    }

    public mutating func member<Elements: Sequence>(
        _ key: String, objects elements: Elements, _ members: (Elements.Element, inout JSONWriter) -> Void
    ) {
        beginMember(key)
        writeArray(of: elements) { element, writer in writer.writeObject { members(element, &$0) } }
    }
}
