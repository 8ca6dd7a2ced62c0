import JSON
import Testing
import YAML

/// Where each key and element of a document was written, for errors found after parsing.
@Suite struct YAMLMarksTests {
    static let text = """
        job_id: nightly
        kwargs:
          flow_name: f
          flow_arguments:
            - ecosystem: npm
            -   {name: left-pad}
        base: &base {a: 1}
        copy:
          <<: *base
          b: 2
        """

    @Test(arguments: [
        ([JSONPathComponent.key("job_id")], 1, 1),
        ([.key("kwargs")], 2, 1),
        ([.key("kwargs"), .key("flow_name")], 3, 3),
        ([.key("kwargs"), .key("flow_arguments"), .index(0)], 5, 7),
        ([.key("kwargs"), .key("flow_arguments"), .index(0), .key("ecosystem")], 5, 7),
        ([.key("kwargs"), .key("flow_arguments"), .index(1)], 6, 9),
        ([.key("kwargs"), .key("flow_arguments"), .index(1), .key("name")], 6, 10),
        // A merged key sits at its `<<`.
        ([.key("copy"), .key("a")], 9, 3),
        ([.key("copy"), .key("b")], 10, 3),
    ])
    func eachKeyAndElementKeepsItsMark(path: JSONPath, line: Int, column: Int) throws {
        let document = try YAML.document(Self.text)
        #expect(document.mark(at: path) == YAMLMark(line: line, column: column))
    }

    @Test func aPathToWhatIsNotWrittenGetsItsNearestWrittenParent() throws {
        let document = try YAML.document(Self.text)
        #expect(document.mark(at: [.key("kwargs"), .key("missing")]) == YAMLMark(line: 2, column: 1))
        #expect(document.mark(at: [.key("kwargs"), .key("flow_arguments"), .index(9)]) == YAMLMark(line: 4, column: 3))
        #expect(document.mark(at: [.key("nowhere")]) == YAMLMark(line: 1, column: 1))
        #expect(document.value["kwargs"]?["flow_name"] == "f")
    }
}
