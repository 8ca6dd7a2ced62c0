import Foundation
import JSON
import Testing
import YAML

@Suite struct YAMLDocumentTests {
    @Test func fabric8DefaultJobFileParses() throws {
        let text = """
            ---
              handler: FlowScheduling
              job_id: bigQueryJob
              flow_name: bigQueryFlow
              flow_arguments:
                -
              when:
              periodically: 1 day
              # Keep this high so redeployment/downtime does not affect flow scheduling
              misfire_grace_time: 365 days
              state: paused
            """
        let job = try YAML.parse(text, file: "default_jobs/bigQueryJob.yaml")
        let expected: JSONValue = [
            "handler": "FlowScheduling", "job_id": "bigQueryJob", "flow_name": "bigQueryFlow",
            "flow_arguments": [nil], "when": nil, "periodically": "1 day", "misfire_grace_time": "365 days",
            "state": "paused",
        ]
        #expect(job == expected)
        #expect(job.objectValue?.keys == [
            "handler", "job_id", "flow_name", "flow_arguments", "when", "periodically", "misfire_grace_time", "state",
        ])
    }

    @Test func mappingsKeepKeyOrderAndNest() throws {
        let document = try YAML.parse("""
            zeta: 1
            alpha:
              - name: x
                tags: [a, b]
              - {inline: true, n: 2}
            mid: {}
            """)
        #expect(document.objectValue?.keys == ["zeta", "alpha", "mid"])
        #expect(document.serialized() == #"{"zeta":1,"alpha":[{"name":"x","tags":["a","b"]},{"inline":true,"n":2}],"mid":{}}"#)
    }

    @Test func anchorsAndAliasesRepeatAValue() throws {
        let document = try YAML.parse("""
            base: &args {flow_name: bayesianFlow, force: true}
            first: *args
            list: [&n 5, *n]
            """)
        #expect(document["first"] == document["base"])
        #expect(document["list"] == [5, 5])
    }

    @Test func mergeKeysFillWhatIsNotSetExplicitly() throws {
        let document = try YAML.parse("""
            defaults: &defaults
              periodically: 1 day
              misfire_grace_time: 1 hour
              state: running
            extra: &extra
              state: paused
              priority: 3
            job:
              state: paused
              <<: [*defaults, *extra]
              periodically: 2 days
            """)
        #expect(document["job"] == ["state": "paused", "periodically": "2 days", "misfire_grace_time": "1 hour", "priority": 3])
        #expect(document["job"]?.objectValue?.keys == ["state", "periodically", "misfire_grace_time", "priority"])
    }

    @Test func singleMergeAndQuotedMergeKey() throws {
        let document = try YAML.parse("""
            base: &b {a: 1}
            merged: {<<: *b, c: 2}
            literal: {"<<": not a merge}
            """)
        #expect(document["merged"] == ["a": 1, "c": 2])
        #expect(document["literal"] == ["<<": "not a merge"])
    }

    @Test func mergingAScalarIsAnError() {
        #expect(throws: YAMLError(file: nil, line: 1, column: 17, message: "a merge key << takes a mapping or a list of mappings, not a string")) {
            try YAML.parse("job: {a: 1, <<: text}")
        }
    }

    @Test func aliasBombIsRefusedNotExpanded() {
        let bomb = """
            a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
            b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
            c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
            d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
            e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
            f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
            g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
            h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
            i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
            """
        do {
            _ = try YAML.parse(bomb, file: "bomb.yaml")
            Issue.record("the alias bomb parsed")
        } catch {
            #expect(error.file == "bomb.yaml")
            #expect(error.message.contains("more than 100000 values"))
        }
    }

    @Test func nodeLimitAtTheLimitAndOnePast() throws {
        // A mapping (1) holding a list (1) of 8 scalars: 10 nodes.
        let text = "k: [1, 2, 3, 4, 5, 6, 7, 8]"
        #expect(try YAML.parse(text, limits: YAMLLimits(maximumNodes: 10))["k"]?.arrayValue?.count == 8)
        #expect(throws: YAMLError.self) { try YAML.parse(text, limits: YAMLLimits(maximumNodes: 9)) }
    }

    @Test func depthLimitAtTheLimitAndOnePast() throws {
        let limits = YAMLLimits(maximumDepth: 3)
        #expect(try YAML.parse("[[[1]]]", limits: limits) == [[[1]]])
        #expect(throws: YAMLError(file: nil, line: 1, column: 4, message: "the document nests deeper than 3 levels")) {
            try YAML.parse("[[[[1]]]]", limits: limits)
        }
    }

    @Test func syntaxErrorCarriesFileLineAndColumn() {
        let text = "job_id: nightly\nhandler: FlowScheduling\n  state: paused\n"
        do {
            _ = try YAML.parse(text, file: "default_jobs/nightly.yaml")
            Issue.record("the broken file parsed")
        } catch {
            #expect(error.file == "default_jobs/nightly.yaml")
            #expect(error.line == 3)
            #expect(error.column == 8)
            #expect(error.message == "mapping values are not allowed in this context")
            #expect(error.description == "default_jobs/nightly.yaml:3:8: mapping values are not allowed in this context")
        }
    }

    @Test func duplicateKeyIsAnErrorAtTheSecondKey() {
        #expect(throws: YAMLError(file: nil, line: 3, column: 1, message: "duplicate key \"job_id\"")) {
            try YAML.parse("job_id: a\nhandler: FlowScheduling\njob_id: b\n")
        }
    }

    @Test func unknownAliasIsAnError() {
        #expect(throws: YAMLError(file: nil, line: 1, column: 6, message: "unknown alias *nope; define &nope before using it")) {
            try YAML.parse("key: *nope")
        }
    }

    @Test func complexKeysAreRefused() {
        #expect(throws: YAMLError.self) { try YAML.parse("? [a, b]\n: value\n") }
    }

    @Test func oneFileHoldsOneDocument() throws {
        #expect(try YAML.parse("") == .null)
        #expect(try YAML.parse("# only a comment\n") == .null)
        #expect(try YAML.parseAll("a: 1\n---\nb: 2\n") == [["a": 1], ["b": 2]])
        #expect(throws: YAMLError(file: "two.yaml", line: 2, column: 1, message: "a second YAML document starts here; one file holds one document")) {
            try YAML.parse("a: 1\n---\nb: 2\n", file: "two.yaml")
        }
    }

    @Test func fileIsReadFromDiskAndNamedInErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.yaml").path
        let bad = directory.appendingPathComponent("bad.yaml").path
        try "job_id: x\nhandler: FlowScheduling\n".write(toFile: good, atomically: true, encoding: .utf8)
        try "job_id: [unclosed\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(try YAML.parse(contentsOf: good) == ["job_id": "x", "handler": "FlowScheduling"])
        #expect(throws: YAMLError.self) { try YAML.parse(contentsOf: bad) }
        do {
            _ = try YAML.parse(contentsOf: bad)
        } catch {
            #expect(error.file == bad)
            #expect(error.line == 2)
        }
        #expect(throws: YAMLError(file: directory.path + "/missing.yaml", line: 1, column: 1, message: "cannot read the file")) {
            try YAML.parse(contentsOf: directory.path + "/missing.yaml")
        }
    }
}
