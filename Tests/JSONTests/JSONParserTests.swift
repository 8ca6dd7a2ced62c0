import JSON
import Testing

@Suite struct JSONParserTests {
    @Test func objectsKeepKeyOrder() throws {
        let value = try JSONValue(parsing: #"{"zebra": 1, "apple": 2, "mango": 3}"#)
        #expect(value.objectValue?.keys == ["zebra", "apple", "mango"])
        #expect(value.serialized() == #"{"zebra":1,"apple":2,"mango":3}"#)
    }

    @Test func aRepeatedKeyIsRefusedWhereItStands() {
        #expect(throws: JSONParseError(message: #"duplicate key "a" in one object"#, line: 2, column: 3)) {
            try JSONValue(parsing: "{\"a\": 1, \"b\": {\"a\": 2},\n  \"a\": 3}")
        }
    }

    @Test func readingADatabasesJSONTheLastOfARepeatedKeyWinsAsInJSONB() throws {
        let value = try JSONValue(parsing: #"{"a": 1, "b": 2, "a": 3}"#, repeatedKeys: .lastWins)
        #expect(value.serialized() == #"{"a":3,"b":2}"#)
    }

    @Test(arguments: [
        ("9223372036854775807", JSONValue.int(.max)),
        ("-9223372036854775808", JSONValue.int(.min)),
        ("0", JSONValue.int(0)),
        ("-0", JSONValue.int(0)),
        ("9223372036854775808", JSONValue.decimal("9223372036854775808")),
        ("-9223372036854775809", JSONValue.decimal("-9223372036854775809")),
        ("123456789012345678901234567890", JSONValue.decimal("123456789012345678901234567890")),
        ("1.5", JSONValue.double(1.5)),
        ("-0.25e2", JSONValue.double(-25)),
        ("1E3", JSONValue.double(1000)),
        ("1e400", JSONValue.decimal("1e400")),
    ])
    func numbersAreExact(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
    }

    @Test func integersSurviveAWriteAndReadExactly() throws {
        let extremes: JSONValue = [.int(.max), .int(.min), .int(9_007_199_254_740_993)]
        #expect(extremes.serialized() == "[9223372036854775807,-9223372036854775808,9007199254740993]")
        #expect(try JSONValue(parsing: extremes.serialized()) == extremes)
    }

    @Test(arguments: [
        (#""a\"b\\c\/d""#, "a\"b\\c/d"),
        (#""\b\f\n\r\t""#, "\u{8}\u{C}\n\r\t"),
        (#""\u00e9\u4e2d""#, "é中"),
        (#""\ud83d\ude00""#, "😀"),
        (#""héllo wörld 🎉""#, "héllo wörld 🎉"),
        (#""""#, ""),
    ])
    func stringEscapes(text: String, expected: String) throws {
        #expect(try JSONValue(parsing: text) == .string(expected))
    }

    @Test func writerEscapesWhatJSONRequires() {
        let value: JSONValue = .string("quote\" backslash\\ newline\n tab\t bell\u{7} é")
        #expect(value.serialized() == #""quote\" backslash\\ newline\n tab\t bell\u0007 é""#)
    }

    @Test func nestedDocumentRoundTrips() throws {
        let text = #"{"job":{"kwargs":{"flow_arguments":[{"$filter":{"table":"versions"}},null,true,false,1.25]}},"e":[],"o":{}}"#
        #expect(try JSONValue(parsing: text).serialized() == text)
    }

    @Test func prettyLayoutIndentsTwoSpaces() throws {
        let value = try JSONValue(parsing: #"{"a":[1,{"b":null}],"c":{}}"#)
        #expect(value.serialized(.pretty) == """
            {
              "a": [
                1,
                {
                  "b": null
                }
              ],
              "c": {}
            }
            """)
    }

    @Test(arguments: [
        ("", "unexpected end of input, expected a value", 1, 1),
        ("{", "unexpected end of input, expected a string key", 1, 2),
        ("[1,]", "unexpected ']', expected a value", 1, 4),
        (#"{"a":1,}"#, "unexpected '}', expected a string key", 1, 8),
        ("[1 2]", "unexpected '2', expected ',' or ']'", 1, 4),
        (#"{"a" 1}"#, "unexpected '1', expected ':'", 1, 6),
        ("01", "leading zeros are not allowed in a number", 1, 1),
        ("1.", "expected a digit after the decimal point", 1, 3),
        ("1e", "expected a digit in the exponent", 1, 3),
        ("-", "expected a digit", 1, 2),
        ("NaN", "unexpected 'N', expected a value", 1, 1),
        ("tru", "unexpected 't', expected a value", 1, 1),
        ("nul", "unexpected 'n', expected a value", 1, 1),
        ("{\n  \"a\": 1\n} x", "unexpected 'x' after the JSON value", 3, 3),
        ("\"abc", "unterminated string", 1, 5),
        ("\"a\u{1}b\"", "control character U+0001 must be escaped in a string", 1, 3),
        (#""\x""#, #"invalid escape \'x' in a string"#, 1, 3),
        (#""\u12""#, "\\u must be followed by four hex digits", 1, 4),
        (#""\ud83d""#, "unpaired UTF-16 surrogate \\uD83D", 1, 8),
        (#""\ude00""#, "unpaired UTF-16 surrogate \\uDE00", 1, 8),
        ("// comment\n1", "unexpected '/', expected a value", 1, 1),
    ])
    func malformedInputSaysWhatAndWhere(text: String, message: String, line: Int, column: Int) {
        #expect(throws: JSONParseError(message: message, line: line, column: column)) {
            try JSONValue(parsing: text)
        }
    }

    @Test func invalidUTF8IsRefused() {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x22]
        #expect(throws: JSONParseError(message: "string is not valid UTF-8", line: 1, column: 2)) {
            try JSONValue(parsing: bytes)
        }
    }

    @Test func nestingAtTheLimitParsesAndOnePastFails() throws {
        let limit = 64
        let atLimit = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(try JSONValue(parsing: atLimit, maximumDepth: limit).arrayValue != nil)
        let pastLimit = "[" + atLimit + "]"
        #expect(throws: JSONParseError(message: "nesting deeper than 64 levels", line: 1, column: 65)) {
            try JSONValue(parsing: pastLimit, maximumDepth: limit)
        }
    }

    @Test func defaultDepthLimitStopsAHostileDocumentWithoutCrashing() {
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: hostile) }
    }
}
