import JSON
import Testing

/// A shape with every kind of member, nested objects and arrays of objects, said once.
private struct Order: JSONObjectRepresentable {
    var id: Int64
    var note: String?
    var count: Int64?
    var lines: [(sku: String, quantity: Int64)]
    var extra: JSONValue

    func writeMembers(into members: inout some JSONMemberSink) {
        members.member("id", id)
        members.member("note", note)
        members.member("count", count)
        members.member("extra", extra)
        members.member("totals") { totals in
            totals.member("lines", Int64(lines.count))
            totals.member("empty") { _ in }
        }
        members.member("lines", objects: lines) { line, members in
            members.member("sku", line.sku)
            members.member("quantity", line.quantity)
        }
    }
}

@Suite struct JSONMemberSinkTests {
    private let order = Order(
        id: 7, note: "say \"hi\"\n\u{1}é", count: nil, lines: [("a-1", 2), ("b\\2", 1)],
        extra: ["nested": [1, "two", .null], "flag": true])

    @Test func writtenBytesAreTheBuiltValueSerialized() {
        for layout in [JSONValue.Layout.compact, .pretty] {
            var writer = JSONWriter(layout: layout)
            writer.writeObject(order)
            #expect(String(decoding: writer.output, as: UTF8.self) == JSONValue.object(order.jsonObject).serialized(layout))
        }
    }

    @Test func builtValueHasEveryMemberInOrder() {
        let object = order.jsonObject
        #expect(object.keys == ["id", "note", "count", "extra", "totals", "lines"])
        #expect(object["count"] == .null)
        #expect(object["totals"] == ["lines": 2, "empty": .object([:])])
        #expect(object["lines"] == [["sku": "a-1", "quantity": 2], ["sku": "b\\2", "quantity": 1]])
    }

    @Test func compactBytesAreExact() {
        var writer = JSONWriter()
        writer.writeObject(Order(id: -1, note: nil, count: 3, lines: [], extra: []))
        #expect(
            String(decoding: writer.output, as: UTF8.self)
                == #"{"id":-1,"note":null,"count":3,"extra":[],"totals":{"lines":0,"empty":{}},"lines":[]}"#)
    }

    @Test func objectsWrittenInSequenceGetCommasOnlyBetweenThem() {
        var writer = JSONWriter()
        writer.writeArray(of: [1, 2, 3] as [Int64]) { number, writer in writer.writeObject { $0.member("n", number) } }
        #expect(String(decoding: writer.output, as: UTF8.self) == #"[{"n":1},{"n":2},{"n":3}]"#)
    }

    @Test(arguments: ["plain ascii", "", "quote \" backslash \\ tab \t", "\u{0}\u{1F}", "naïve — ✓ 𝄞"])
    func stringsAreEscapedAsTheValueWriterEscapesThem(text: String) throws {
        var writer = JSONWriter()
        writer.writeString(text)
        #expect(String(decoding: writer.output, as: UTF8.self) == JSONValue.string(text).serialized())
        #expect(try JSONValue(parsing: String(decoding: writer.output, as: UTF8.self)) == .string(text))
    }
}
