import Foundation
import JSON

/// Caps on what one document may cost to read.
public struct YAMLLimits: Sendable {
    /// Values in a document, counting an alias's whole value every time it is used: the cap
    /// that turns a "billion laughs" document into an error instead of an out-of-memory.
    public var maximumNodes = 100_000
    /// Nesting of lists and mappings.
    public var maximumDepth = 256

    public init(maximumNodes: Int = 100_000, maximumDepth: Int = 256) {
        self.maximumNodes = maximumNodes
        self.maximumDepth = maximumDepth
    }
}

/// YAML files read into ``JSONValue``s through the system libyaml.
///
/// Mappings keep their key order; scalars resolve by YAML 1.1 as PyYAML does (see
/// ``YAMLScalarResolver``); anchors, aliases and `<<` merge keys work; a duplicate key is an
/// error. A value with an application tag such as `!retval job_id` is kept as the object
/// `{"$tag": "!retval", "$value": "job_id"}`, which survives JSON and `jsonb` unchanged.
///
/// ```swift
/// let job = try YAML.parse(contentsOf: "default_jobs/nightly.yaml")
/// job["periodically"]   // .string("1 day")
/// ```
public enum YAML {
    /// The key holding an application tag's name in a tagged value.
    public static let tagKey = "$tag"
    /// The key holding the tagged value itself.
    public static let tagValueKey = "$value"

    /// The single document in `text`; an empty text is `null`.
    ///
    /// - Parameter file: named in errors, as `file:line:column: message`.
    /// - Throws: ``YAMLError`` with the position of the problem, also for a second document.
    public static func parse(_ text: String, file: String? = nil, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> JSONValue {
        try document(text, file: file, limits: limits).value
    }

    /// The single document in `text` with the marks of its keys and elements, so that a later
    /// check of its content can point at `file:line` (see ``YAMLDocument/mark(at:)``).
    public static func document(_ text: String, file: String? = nil, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLDocument {
        let documents = try compose(text, file: file, limits: limits)
        guard documents.count <= 1 else {
            let second = documents[1].start
            throw YAMLError(
                file: file, line: second.line, column: second.column,
                message: "a second YAML document starts here; one file holds one document")
        }
        return documents.first ?? YAMLDocument(value: .null, start: YAMLMark(line: 1, column: 1), marks: [:])
    }

    /// Every document in `text` (a stream separated by `---`).
    public static func parseAll(_ text: String, file: String? = nil, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> [JSONValue] {
        try compose(text, file: file, limits: limits).map(\.value)
    }

    /// Reads and parses the file at `path`; a file that cannot be read is an error at line 1, column 1.
    public static func parse(contentsOf path: String, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> JSONValue {
        try document(contentsOf: path, limits: limits).value
    }

    /// Reads the file at `path` as one document with its marks.
    public static func document(contentsOf path: String, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw YAMLError(file: path, line: 1, column: 1, message: "cannot read the file")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw YAMLError(file: path, line: 1, column: 1, message: "the file is not valid UTF-8")
        }
        return try document(text, file: path, limits: limits)
    }

    /// If `value` is a tagged value (`!name value`), its tag and the value.
    public static func tag(of value: JSONValue) -> (tag: String, value: JSONValue)? {
        guard case .object(let object) = value, object.count == 2, case .string(let tag)? = object[tagKey],
            let tagged = object[tagValueKey]
        else { return nil }
        return (tag, tagged)
    }

    private static func compose(
        _ text: String, file: String?, limits: YAMLLimits
    ) throws(YAMLError) -> [YAMLDocument] {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(YAMLError) -> [YAMLDocument] in
                var composer = YAMLComposer(reader: YAMLEventReader(input: buffer, file: file), file: file, limits: limits)
                return try composer.documents()
            }
        }
        return try result.get()
    }
}

/// One parsed document and where its parts were written.
public struct YAMLDocument: Sendable {
    public let value: JSONValue
    /// Where the document starts.
    public let start: YAMLMark
    let marks: [JSONPath: YAMLMark]

    init(value: JSONValue, start: YAMLMark, marks: [JSONPath: YAMLMark]) {
        self.value = value
        self.start = start
        self.marks = marks
    }

    /// Where the node at `path` was written: its key's mark for a mapping member, its first
    /// character for a list element. A path into something the document does not spell out (a
    /// key that is missing, the inside of an alias) gets the mark of its nearest written parent.
    public func mark(at path: JSONPath) -> YAMLMark {
        var path = path
        while !path.isEmpty {
            if let mark = marks[path] { return mark }
            path.removeLast()
        }
        return marks[[]] ?? start
    }
}
