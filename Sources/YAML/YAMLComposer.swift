import JSON

/// Builds JSON values from libyaml's events: resolves scalars and tags, expands aliases and
/// `<<` merge keys, and enforces the limits that keep a hostile document small.
struct YAMLComposer: ~Copyable {
    private var reader: YAMLEventReader
    private let file: String?
    private let limits: YAMLLimits
    /// Anchored values of the current document, with their size in nodes.
    private var anchors: [String: (value: JSONValue, nodes: Int)] = [:]
    /// Nodes in the current document, counting every alias expansion at its full size.
    private var nodeCount = 0
    /// Where the node being built sits in its document.
    private var path: JSONPath = []
    /// Where each key and list element of the current document was written: a key's own mark,
    /// an element's first character. Nodes reached through an alias or a merge key sit at the
    /// alias's or the `<<`'s mark.
    private var marks: [JSONPath: YAMLMark] = [:]

    init(reader: consuming YAMLEventReader, file: String?, limits: YAMLLimits) {
        self.reader = reader
        self.file = file
        self.limits = limits
    }

    /// Every document with the position where it starts and the marks of its keys and elements.
    mutating func documents() throws(YAMLError) -> [YAMLDocument] {
        var documents: [YAMLDocument] = []
        guard case .streamStart = try reader.next().0 else { throw YAMLError(file: file, line: 1, column: 1, message: "expected a YAML stream") }
        while true {
            let (event, mark) = try reader.next()
            switch event {
            case .streamEnd:
                return documents
            case .documentStart:
                anchors = [:]
                nodeCount = 0
                marks = [:]
                let (first, firstMark) = try reader.next()
                marks[[]] = firstMark
                let value = try node(first, at: firstMark, depth: 0).value
                documents.append(YAMLDocument(value: value, start: mark, marks: marks))
                guard case .documentEnd = try reader.next().0 else { throw error("expected the end of the document", at: mark) }
            default:
                throw error("expected a document", at: mark)
            }
        }
    }

    private mutating func node(_ event: YAMLEventReader.Event, at mark: YAMLMark, depth: Int) throws(YAMLError) -> (value: JSONValue, nodes: Int) {
        let built: (value: JSONValue, nodes: Int)
        let anchor: String?
        switch event {
        case .alias(let name):
            guard let target = anchors[name] else { throw error("unknown alias *\(name); define &\(name) before using it", at: mark) }
            try count(target.nodes, at: mark)
            return target
        case .scalar(let text, let scalarAnchor, let tag, let isPlain):
            anchor = scalarAnchor
            built = (try scalar(text, tag: tag, isPlain: isPlain, at: mark), 1)
            try count(1, at: mark)
        case .sequenceStart(let sequenceAnchor, let tag):
            anchor = sequenceAnchor
            try enter(depth: depth, at: mark)
            let sequence = try self.sequence(depth: depth)
            built = (try tagged(sequence.value, tag: tag, at: mark), sequence.nodes)
        case .mappingStart(let mappingAnchor, let tag):
            anchor = mappingAnchor
            try enter(depth: depth, at: mark)
            let mapping = try self.mapping(depth: depth)
            built = (try tagged(mapping.value, tag: tag, at: mark), mapping.nodes)
        default:
            throw error("expected a value", at: mark)
        }
        if let anchor { anchors[anchor] = built }
        return built
    }

    private mutating func sequence(depth: Int) throws(YAMLError) -> (value: JSONValue, nodes: Int) {
        var elements: [JSONValue] = []
        var nodes = 1
        while true {
            let (event, mark) = try reader.next()
            if case .sequenceEnd = event { return (.array(elements), nodes) }
            path.append(.index(elements.count))
            defer { path.removeLast() }
            marks[path] = mark
            let element = try node(event, at: mark, depth: depth + 1)
            elements.append(element.value)
            nodes += element.nodes
        }
    }

    private mutating func mapping(depth: Int) throws(YAMLError) -> (value: JSONValue, nodes: Int) {
        var object = JSONObject()
        var explicitKeys: Set<String> = []
        var nodes = 1
        while true {
            let (keyEvent, keyMark) = try reader.next()
            let key: String
            let isMerge: Bool
            switch keyEvent {
            case .mappingEnd:
                return (.object(object), nodes)
            case .scalar(let text, _, let tag, let isPlain):
                key = text
                isMerge = text == "<<" && isPlain && (tag == nil || tag == "tag:yaml.org,2002:merge")
            default:
                throw error("a mapping key must be a plain value, not a list, a mapping or an alias", at: keyMark)
            }
            let (valueEvent, valueMark) = try reader.next()
            if !isMerge {
                path.append(.key(key))
                marks[path] = keyMark
            }
            let value = try node(valueEvent, at: valueMark, depth: depth + 1)
            if !isMerge { path.removeLast() }
            nodes += value.nodes
            if isMerge {
                try merge(value.value, into: &object, explicitKeys: explicitKeys, at: valueMark, keyMark: keyMark)
            } else {
                guard !explicitKeys.contains(key) else { throw error("duplicate key \"\(key)\"", at: keyMark) }
                explicitKeys.insert(key)
                object[key] = value.value
            }
        }
    }

    /// `<<: *base` or `<<: [*first, *second]`: keys not set explicitly come from the merged
    /// mappings, the first mapping that has a key winning; explicit keys win wherever they stand.
    /// Merged keys are marked where their `<<` (at `keyMark`) stands.
    private mutating func merge(
        _ value: JSONValue, into object: inout JSONObject, explicitKeys: Set<String>, at mark: YAMLMark, keyMark: YAMLMark
    ) throws(YAMLError) {
        let sources: [JSONObject]
        switch value {
        case .object(let single):
            sources = [single]
        case .array(let elements):
            var objects: [JSONObject] = []
            for element in elements {
                guard case .object(let source) = element else {
                    throw error("a merge key << takes a mapping or a list of mappings; the list holds \(element.kindDescription)", at: mark)
                }
                objects.append(source)
            }
            sources = objects
        default:
            throw error("a merge key << takes a mapping or a list of mappings, not \(value.kindDescription)", at: mark)
        }
        var merged: Set<String> = []
        for source in sources {
            for (key, member) in source where !explicitKeys.contains(key) && !merged.contains(key) {
                object[key] = member
                merged.insert(key)
                marks[path + [.key(key)]] = keyMark
            }
        }
    }

    private func scalar(_ text: String, tag: String?, isPlain: Bool, at mark: YAMLMark) throws(YAMLError) -> JSONValue {
        guard let tag else { return isPlain ? YAMLScalarResolver.resolve(text) : .string(text) }
        let core = "tag:yaml.org,2002:"
        guard tag.hasPrefix(core) else {
            // "!" alone is the non-specific tag: a string. Anything else is an application tag.
            return tag == "!" ? .string(text) : Self.wrap(.string(text), tag: tag)
        }
        let resolved = YAMLScalarResolver.resolve(text)
        switch tag.dropFirst(core.count) {
        case "str", "binary", "timestamp":
            return .string(text)
        case "null":
            guard resolved == .null else { throw error("\"\(text)\" is not a null", at: mark) }
            return .null
        case "bool":
            guard case .bool = resolved else { throw error("\"\(text)\" is not a boolean", at: mark) }
            return resolved
        case "int":
            guard let integer = YAMLScalarResolver.integer(text) else { throw error("\"\(text)\" is not an integer", at: mark) }
            return integer
        case "float":
            if let float = YAMLScalarResolver.float(text) { return .double(float) }
            if case .double = resolved { return resolved }
            if let whole = YAMLScalarResolver.integer(text), let double = whole.doubleValue { return .double(double) }
            throw error("\"\(text)\" is not a float", at: mark)
        default:
            return resolved
        }
    }

    private func tagged(_ value: JSONValue, tag: String?, at mark: YAMLMark) throws(YAMLError) -> JSONValue {
        guard let tag, !tag.hasPrefix("tag:yaml.org,2002:"), tag != "!" else { return value }
        return Self.wrap(value, tag: tag)
    }

    private static func wrap(_ value: JSONValue, tag: String) -> JSONValue {
        .object([YAML.tagKey: .string(tag), YAML.tagValueKey: value])
    }

    /// A list or mapping starts `depth` containers deep.
    private mutating func enter(depth: Int, at mark: YAMLMark) throws(YAMLError) {
        guard depth < limits.maximumDepth else {
            throw error("the document nests deeper than \(limits.maximumDepth) levels", at: mark)
        }
        try count(1, at: mark)
    }

    private mutating func count(_ nodes: Int, at mark: YAMLMark) throws(YAMLError) {
        nodeCount += nodes
        guard nodeCount <= limits.maximumNodes else {
            throw error(
                "the document expands to more than \(limits.maximumNodes) values (aliases count every time they are used)",
                at: mark)
        }
    }

    private func error(_ message: String, at mark: YAMLMark) -> YAMLError {
        YAMLError(file: file, line: mark.line, column: mark.column, message: message)
    }
}
