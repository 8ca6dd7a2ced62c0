import CYAML

/// libyaml's parser as a pull reader of Swift events; each C event is copied and freed at once.
struct YAMLEventReader: ~Copyable {
    enum Event {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias(anchor: String)
        case scalar(value: String, anchor: String?, tag: String?, isPlain: Bool)
        case sequenceStart(anchor: String?, tag: String?)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?)
        case mappingEnd
    }

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeBufferPointer<UInt8>
    private let file: String?

    /// `input` must stay valid and unmoved for the reader's whole life.
    init(input: UnsafeBufferPointer<UInt8>, file: String?) {
        self.file = file
        self.input = input
        parser = .allocate(capacity: 1)
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress ?? UnsafePointer(bitPattern: 1), input.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    /// The next event and where it starts.
    mutating func next() throws(YAMLError) -> (Event, YAMLMark) {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw parserError() }
        defer { yaml_event_delete(&event) }
        let mark = YAMLMark(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: return (.streamStart, mark)
        case YAML_STREAM_END_EVENT: return (.streamEnd, mark)
        case YAML_DOCUMENT_START_EVENT: return (.documentStart, mark)
        case YAML_DOCUMENT_END_EVENT: return (.documentEnd, mark)
        case YAML_ALIAS_EVENT: return (.alias(anchor: text(event.data.alias.anchor) ?? ""), mark)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = scalar.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self) } ?? ""
            return (
                .scalar(
                    value: value, anchor: text(scalar.anchor), tag: text(scalar.tag),
                    isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE),
                mark
            )
        case YAML_SEQUENCE_START_EVENT:
            let start = event.data.sequence_start
            return (.sequenceStart(anchor: text(start.anchor), tag: text(start.tag)), mark)
        case YAML_SEQUENCE_END_EVENT: return (.sequenceEnd, mark)
        case YAML_MAPPING_START_EVENT:
            let start = event.data.mapping_start
            return (.mappingStart(anchor: text(start.anchor), tag: text(start.tag)), mark)
        case YAML_MAPPING_END_EVENT: return (.mappingEnd, mark)
        default:
            throw YAMLError(file: file, line: mark.line, column: mark.column, message: "unexpected YAML event")
        }
    }

    private static func mark(ofOffset offset: Int, in input: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, input.count) where input[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return YAMLMark(line: line, column: offset - lineStart + 1)
    }

    private func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// libyaml's problem, its context ("while scanning a simple key") and position.
    private func parserError() -> YAMLError {
        let state = parser.pointee
        var message = state.problem.map { String(cString: $0) } ?? "invalid YAML"
        if let context = state.context.map({ String(cString: $0) }) {
            message += " (\(context) at line \(state.context_mark.line + 1), column \(state.context_mark.column + 1))"
        }
        var mark = YAMLMark(line: state.problem_mark.line + 1, column: state.problem_mark.column + 1)
        if state.error == YAML_READER_ERROR {
            // Reader errors (bad encoding) carry a byte offset instead of a mark.
            mark = Self.mark(ofOffset: state.problem_offset, in: input)
        }
        return YAMLError(file: file, line: mark.line, column: mark.column, message: message)
    }
}
