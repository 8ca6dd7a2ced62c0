import JSON
import Testing
import YAML

@Suite struct YAMLScalarTests {
    private func value(_ scalar: String) throws -> JSONValue? {
        try YAML.parse("key: \(scalar)\n")["key"]
    }

    @Test(arguments: [
        ("", JSONValue.null), ("~", .null), ("null", .null), ("Null", .null), ("NULL", .null),
        ("true", .bool(true)), ("True", .bool(true)), ("TRUE", .bool(true)),
        ("yes", .bool(true)), ("Yes", .bool(true)), ("YES", .bool(true)), ("on", .bool(true)), ("On", .bool(true)), ("ON", .bool(true)),
        ("false", .bool(false)), ("False", .bool(false)), ("FALSE", .bool(false)),
        ("no", .bool(false)), ("No", .bool(false)), ("NO", .bool(false)), ("off", .bool(false)), ("Off", .bool(false)), ("OFF", .bool(false)),
        ("0", .int(0)), ("42", .int(42)), ("-17", .int(-17)), ("+8", .int(8)), ("1_000_000", .int(1_000_000)),
        ("0x1F", .int(31)), ("0xff", .int(255)), ("-0x10", .int(-16)), ("0o17", .int(15)), ("017", .int(15)), ("0b101", .int(5)),
        ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
        ("99999999999999999999", .decimal("99999999999999999999")),
        ("1.5", .double(1.5)), ("-.5", .double(-0.5)), ("+2.", .double(2)), ("1.0e+3", .double(1000)), ("6.02e-23", .double(6.02e-23)),
        ("1_000.5", .double(1000.5)),
        (".inf", .double(.infinity)), (".Inf", .double(.infinity)), ("+.INF", .double(.infinity)), ("-.inf", .double(-.infinity)),
        // Strings: not one of the forms above.
        ("y", .string("y")), ("n", .string("n")), ("1e3", .string("1e3")), ("09", .string("09")), ("0x", .string("0x")),
        ("1 day", .string("1 day")), ("5:00:00", .string("5:00:00")), ("2017-04-01 20:00:00", .string("2017-04-01 20:00:00")),
        ("Mon Feb 20, 14:56", .string("Mon Feb 20, 14:56")), ("nulls", .string("nulls")), ("truely", .string("truely")),
        ("1.2.3", .string("1.2.3")), (".", .string(".")),
    ])
    func plainScalarsResolveByYAML11(scalar: String, expected: JSONValue) throws {
        #expect(try value(scalar) == expected)
    }

    @Test(arguments: [".nan", ".NaN", ".NAN"])
    func notANumber(scalar: String) throws {
        let parsed = try value(scalar)
        #expect(parsed?.doubleValue?.isNaN == true)
    }

    @Test(arguments: [#""true""#, "'123'", #""~""#, "'null'", #""0x1F""#, "'1.5'", #""""#])
    func quotedScalarsStayStrings(scalar: String) throws {
        let parsed = try #require(try value(scalar))
        #expect(parsed.stringValue != nil, "\(scalar) read as \(parsed)")
    }

    @Test func blockScalarsStayStrings() throws {
        let document = try YAML.parse("literal: |\n  42\nfolded: >\n  yes\n")
        #expect(document["literal"] == "42\n")
        #expect(document["folded"] == "yes\n")
    }

    @Test(arguments: [
        ("!!str 123", JSONValue.string("123")), ("!!str yes", .string("yes")), ("!!int \"12\"", .int(12)),
        ("!!float 3", .double(3)), ("!!bool 'on'", .bool(true)), ("!!null ''", .null), ("! 12", .string("12")),
    ])
    func coreTagsDecide(scalar: String, expected: JSONValue) throws {
        #expect(try value(scalar) == expected)
    }

    @Test func aCoreTagThatDoesNotFitIsAnError() {
        #expect(throws: YAMLError(file: nil, line: 1, column: 6, message: "\"abc\" is not an integer")) {
            try YAML.parse("key: !!int abc")
        }
    }

    @Test func applicationTagsAreKeptAsTaggedValues() throws {
        let document = try YAML.parse("task_name: !retval job_id\nlist: !custom [1, 2]\n")
        #expect(document["task_name"] == ["$tag": "!retval", "$value": "job_id"])
        let tagged = try #require(YAML.tag(of: document["task_name"]!))
        #expect(tagged.tag == "!retval")
        #expect(tagged.value == "job_id")
        #expect(YAML.tag(of: document["list"]!)?.value == [1, 2])
        #expect(YAML.tag(of: "plain") == nil)
    }
}
