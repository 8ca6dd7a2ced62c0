import Chronology
import Foundation
import JSON
import Postgres
import TestSupport
import Testing

/// Values go out as bound parameters and come back through the row decoders, unchanged.
@Suite struct TypeRoundTripTests {
    @Test func integersAtTheirExtremes() async throws {
        try await withConnection { connection in
            let row = try connection.query("""
                SELECT \(Int64.max)::int8 AS big, \(Int64.min)::int8 AS small, \(Int32.max) AS i32,
                       \(Int32.min) AS i32min, \(0) AS zero, 32767::int2 AS i16
                """)[0]
            #expect(try row.decode(Int64.self, column: "big") == .max)
            #expect(try row.decode(Int64.self, column: "small") == .min)
            #expect(try row.decode(Int32.self, column: "i32") == .max)
            #expect(try row.decode(Int32.self, column: "i32min") == .min)
            #expect(try row.decode(Int.self, column: "zero") == 0)
            #expect(try row.decode(Int.self, column: "i16") == 32767)
        }
    }

    @Test func doublesIncludingSpecialValues() async throws {
        try await withConnection { connection in
            let values: [Double] = [0.1, -2.5e-300, 1.7976931348623157e308, .infinity, -.infinity, 5e-324]
            for value in values {
                let back = try connection.query("SELECT \(value) AS v")[0].decode(Double.self, column: "v")
                #expect(back == value)
            }
            #expect(try connection.query("SELECT \(Double.nan) AS v")[0].decode(Double.self, column: "v").isNaN)
        }
    }

    @Test func booleansAndNulls() async throws {
        try await withConnection { connection in
            let none: String? = nil
            let row = try connection.query("SELECT \(true) AS t, \(false) AS f, \(none)::text AS n, NULL::int AS ni")[0]
            #expect(try row.decode(Bool.self, column: "t") == true)
            #expect(try row.decode(Bool.self, column: "f") == false)
            #expect(try row.decode(String?.self, column: "n") == nil)
            #expect(try row.decode(Int?.self, column: "ni") == nil)
        }
    }

    @Test(arguments: ["", "plain", "héllo wörld", "中文字符", "emoji 🎉👩‍👩‍👧", "tab\tnew\nline", "quote ' and \" and \\", "'); DROP TABLE x; --"])
    func textComesBackAsData(text: String) async throws {
        try await withConnection { connection in
            let back = try connection.query("SELECT \(text)::text AS v")[0].decode(String.self, column: "v")
            #expect(back == text)
        }
    }

    @Test func injectionAttemptIsStoredAsData() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE x (v text)")
            let hostile = "'); DROP TABLE x; --"
            try connection.execute("INSERT INTO x (v) VALUES (\(hostile))")
            let rows = try connection.query("SELECT v FROM x WHERE v = \(hostile)")
            #expect(rows.count == 1)
            #expect(try rows[0].decode(String.self, column: "v") == hostile)
        }
    }

    @Test func timestampsKeepMicroseconds() async throws {
        try await withConnection { connection in
            let instants = [
                Timestamp(microsecondsSinceEpoch: 1_772_323_200_123_456),
                Timestamp(microsecondsSinceEpoch: 1),
                Timestamp(microsecondsSinceEpoch: -1),
                Timestamp(microsecondsSinceEpoch: 253_402_300_799_999_999),  // 9999-12-31T23:59:59.999999Z
            ]
            for instant in instants {
                let row = try connection.query("SELECT \(instant) AS ts, \(instant)::timestamp AS naive")[0]
                #expect(try row.decode(Timestamp.self, column: "ts") == instant)
                #expect(try row.decode(Timestamp.self, column: "naive") == instant)
            }
            let date = Date(timeIntervalSince1970: 1_772_323_200.123456)
            let back = try connection.query("SELECT \(date) AS ts")[0].decode(Date.self, column: "ts")
            #expect(Timestamp(back) == Timestamp(date))
            #expect(abs(back.timeIntervalSince(date)) < 0.000_001)
        }
    }

    @Test func timestampsReadInUTCWhateverTheServerZone() async throws {
        try await withConnection { connection in
            // An explicit offset in the input still reads back as the same instant.
            let row = try connection.query("SELECT '2026-03-01 05:30:00.5+05:30'::timestamptz AS ts, '2026-03-01'::date AS d")[0]
            #expect(try row.decode(Timestamp.self, column: "ts").iso8601 == "2026-03-01T00:00:00.500000Z")
            #expect(try row.decode(Timestamp.self, column: "d").iso8601 == "2026-03-01T00:00:00Z")
        }
    }

    @Test func uuids() async throws {
        try await withConnection { connection in
            let id = UUID()
            let back = try connection.query("SELECT \(id) AS v")[0].decode(UUID.self, column: "v")
            #expect(back == id)
        }
    }

    @Test func nestedJSONB() async throws {
        try await withConnection { connection in
            let document: JSONValue = [
                "flow_name": "bayesianFlow",
                "flow_arguments": [["$filter": ["table": "versions", "where": ["id >": .int(.max)]]], nil, 1.5, "ünï"],
                "flags": ["force": true, "empty": [:], "list": []],
            ]
            let row = try connection.query("SELECT \(document) AS doc, \(document.serialized())::json AS plain")[0]
            #expect(try row.decode(JSONValue.self, column: "doc") == document)
            // json (not jsonb) keeps the text as sent, so key order too.
            #expect(try row.decode(JSONValue.self, column: "plain").objectValue?.keys == ["flow_name", "flow_arguments", "flags"])
        }
    }

    @Test func arraysBothWays() async throws {
        try await withConnection { connection in
            let names = ["a", "b,c", "d\"e", "f\\g", "", "NULL", "{x}", "é✓\\\"", " spaced "]
            let numbers: [Int64] = [.min, 0, .max]
            let maybe: [Int?] = [1, nil, 3]
            let times = [Timestamp(microsecondsSinceEpoch: 1), Timestamp(microsecondsSinceEpoch: 1_772_323_200_000_001)]
            let row = try connection.query("SELECT \(names) AS names, \(numbers) AS numbers, \(maybe) AS maybe, \(times) AS times")[0]
            #expect(try row.decode([String].self, column: "names") == names)
            #expect(try row.decode([Int64].self, column: "numbers") == numbers)
            #expect(try row.decode([Int?].self, column: "maybe") == maybe)
            #expect(try row.decode([Timestamp].self, column: "times") == times)
        }
    }

    @Test func unnestMakesMultiRowWritesOneStatement() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE runs (job_id text, scheduled_for timestamptz)")
            let ids = (0..<500).map { "job-\($0)" }
            let times = (0..<500).map { Timestamp(secondsSinceEpoch: Int64($0)) }
            let inserted = try connection.execute("INSERT INTO runs SELECT * FROM unnest(\(ids)::text[], \(times))")
            #expect(inserted == 500)
        }
    }

    @Test func nulCharacterIsRefusedNotTruncated() async throws {
        try await withConnection { connection in
            do {
                try connection.query("SELECT \("before\u{0}after")::text AS v")
                Issue.record("a string with NUL was sent")
            } catch let error as PostgresError {
                #expect(error.kind == .invalidParameter)
                #expect(error.message.contains("parameter $1 contains a NUL character"))
            }
        }
    }
}
