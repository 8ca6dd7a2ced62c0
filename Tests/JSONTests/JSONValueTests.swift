import Foundation
import JSON
import Testing

@Suite struct JSONValueTests {
    @Test func objectEqualityIgnoresOrderButKeysKeepIt() {
        let first: JSONObject = ["a": 1, "b": 2]
        let second: JSONObject = ["b": 2, "a": 1]
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first.keys == ["a", "b"])
        #expect(second.keys == ["b", "a"])
        #expect(first != ["a": 1, "b": 3])
        #expect(first != ["a": 1])
    }

    @Test func settingAKeyReplacesInPlaceAndNilRemoves() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        #expect(object.keys == ["a", "b", "c"])
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        #expect(object["c"] == 3)
        object["d"] = 4
        #expect(JSONValue.object(object).serialized() == #"{"b":"two","c":3,"d":4}"#)
    }

    @Test func mergingLetsTheOtherObjectWin() {
        let row: JSONObject = ["name": "requests", "ecosystem": "pypi", "force": false]
        let extra: JSONObject = ["force": true, "priority": 1]
        let merged = row.merging(extra)
        #expect(JSONValue.object(merged).serialized() == #"{"name":"requests","ecosystem":"pypi","force":true,"priority":1}"#)
    }

    @Test func accessorsReadTheirKindOnly() {
        let value: JSONValue = ["n": 3, "s": "x", "l": [true, nil]]
        #expect(value["n"]?.intValue == 3)
        #expect(value["n"]?.doubleValue == 3)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["s"]?.intValue == nil)
        #expect(value["l"]?[0]?.boolValue == true)
        #expect(value["l"]?[1]?.isNull == true)
        #expect(value["l"]?[2] == nil)
        #expect(value["missing"] == nil)
        #expect(value["l"]?.kindDescription == "an array")
    }

    @Test(arguments: [
        JSONValue.null, true, false, 0, -9_223_372_036_854_775_808, 1.5, 1e300, .double(.nan), .double(.infinity),
        .double(-.infinity), .decimal("123456789012345678901234567890"), "", "plain", "quote \" back \\ slash",
        "\n\r\t\u{8}\u{C}\u{0}\u{1F}", "ünï 名前 🎉", [], [1, [2, [3]], ["a": .null]], [:],
        ["k\"ey": ["nested": [true, .null, "x"]], "": 1, "second": [:]],
    ])
    func compactByteCountIsTheSerializedLength(value: JSONValue) {
        #expect(value.compactByteCount == value.serializedBytes().count)
    }

    @Test func nonFiniteDoublesAreWrittenAsStrings() {
        let value: JSONValue = [.double(.infinity), .double(-.infinity), .double(.nan)]
        #expect(value.serialized() == #"["Infinity","-Infinity","NaN"]"#)
    }

    @Test func codableThroughFoundationKeepsIntegersExact() throws {
        struct Envelope: Codable, Equatable {
            let payload: JSONValue
        }
        let envelope = Envelope(payload: ["big": .int(.max), "small": .int(.min), "list": [1.5, "x", nil, false]])
        let data = try JSONEncoder().encode(envelope)
        let decoded = try JSONDecoder().decode(Envelope.self, from: data)
        #expect(decoded == envelope)
        #expect(decoded.payload["big"] == .int(9_223_372_036_854_775_807))
        // What Foundation wrote is valid JSON for our own parser too.
        #expect(try JSONValue(parsing: Array(data))["payload"]?["big"] == .int(.max))
    }

    @Test func stringOrNumberTextReadsStringsAndNumbersOnly() {
        #expect(JSONValue.string("0 3 * * *").stringOrNumberText == "0 3 * * *")
        #expect(JSONValue.int(45).stringOrNumberText == "45")
        #expect(JSONValue.double(1.5).stringOrNumberText == "1.5")
        for value: JSONValue in [.bool(true), .null, [1], ["a": 1]] {
            #expect(value.stringOrNumberText == nil)
        }
    }
}
