import FilterQuery
import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// Documents written to break out of the language. A name that is not a plain identifier, an
/// operator or function off the lists, anything past a limit: refused with a FilterError. A
/// value, whatever it holds: sent as data, and it comes back as data.
@Suite struct HostileDocumentTests {
    /// Each is refused; none reaches SQL text.
    @Test(arguments: [
        // table names and aliases
        #"{"table": "versions; DROP TABLE versions"}"#,
        #"{"table": "versions\"--"}"#,
        #"{"table": "\"versions\""}"#,
        #"{"table": "versions--"}"#,
        #"{"table": "pg_sleep(10)"}"#,
        #"{"table": "(SELECT 1)"}"#,
        #"{"table": "versions AS a\"b"}"#,
        #"{"table": "versions AS 1a"}"#,
        #"{"table": "versions AS A; DELETE FROM versions"}"#,
        #"{"table": "a.b.c.d"}"#,
        #"{"table": "versions\u0000"}"#,
        #"{"table": "vérsions"}"#,
        // select items
        #"{"table": "t", "select": "name; DROP TABLE t"}"#,
        #"{"table": "t", "select": "name as x; --"}"#,
        #"{"table": "t", "select": "name as \"x\""}"#,
        #"{"table": "t", "select": "pg_sleep(10)"}"#,
        #"{"table": "t", "select": "count(*); DROP TABLE t"}"#,
        #"{"table": "t", "select": "count(id) FILTER (WHERE true)"}"#,
        #"{"table": "t", "select": "name || 'x'"}"#,
        #"{"table": "t", "select": "(select password from users)"}"#,
        #"{"table": "t", "select": "1"}"#,
        #"{"table": "t", "select": "'a'"}"#,
        #"{"table": "t", "select": "count(distinct id, name)"}"#,
        #"{"table": "t", "select": "max(id))"}"#,
        // where keys and operators
        #"{"table": "t", "where": {"name = 'x' OR 1=1 --": 1}}"#,
        #"{"table": "t", "where": {"name; DROP TABLE t": 1}}"#,
        #"{"table": "t", "where": {"name) OR (1=1": 1}}"#,
        #"{"table": "t", "where": {"name/*": 1}}"#,
        #"{"table": "t", "where": {"\"name\"": 1}}"#,
        #"{"table": "t", "where": {"name = ANY": [1]}}"#,
        #"{"table": "t", "where": {"name ~": "x"}}"#,
        #"{"table": "t", "where": {"name ||": "x"}}"#,
        #"{"table": "t", "where": {"name SIMILAR TO": "x"}}"#,
        #"{"table": "t", "where": {"name OR 1=1 =": 1}}"#,
        #"{"table": "t", "where": {"name ;": 1}}"#,
        #"{"table": "t", "where": {"name = 1; --": 1}}"#,
        #"{"table": "t", "where": {"$or; DROP": [{"a": 1}]}}"#,
        // order_by and group_by
        #"{"table": "t", "order_by": "name; DROP TABLE t"}"#,
        #"{"table": "t", "order_by": "name desc, (select 1)"}"#,
        #"{"table": "t", "order_by": "1"}"#,
        #"{"table": "t", "order_by": "random()"}"#,
        #"{"table": "t", "order_by": "name desc desc"}"#,
        #"{"table": "t", "group_by": "name; --"}"#,
        #"{"table": "t", "group_by": "lower(name)"}"#,
        // joins
        #"{"table": "t", "joins": [{"table": "versions ON true; --"}]}"#,
        #"{"table": "t", "joins": [{"table": "u", "on": {"t.id OR 1=1": "u.id"}}]}"#,
        #"{"table": "t", "joins": [{"table": "u", "on": {"t.id": "u.id; DROP TABLE u"}}]}"#,
        #"{"table": "t", "joins": [{"table": "u", "using": ["id) OR (1"]}]}"#,
        #"{"table": "t", "joins": [{"table": "u", "type": "cross join u2 --", "using": "id"}]}"#,
        #"{"table": "t", "joins": [{"table": "u", "type": "left; DROP", "using": "id"}]}"#,
        // limit and offset
        #"{"table": "t", "limit": "1; DROP TABLE t"}"#,
        #"{"table": "t", "offset": "ALL"}"#,
    ])
    func refusesNamesOperatorsAndFunctionsOffTheLists(document: String) throws {
        #expect(throws: FilterError.self) { try compile(document) }
    }

    /// Each value is data: the statement text holds only placeholders, and the rows that come
    /// back are the ones whose columns equal the hostile text, byte for byte.
    @Test func hostileValuesAreDataAndTheDatabaseIsUnchanged() async throws {
        let values = [
            "x'; DROP TABLE packages; --", "serve-static' OR '1'='1", "'); DELETE FROM packages; --",
            "O'Brien\"; --", "\\'; DROP TABLE versions; --", "$A.id; DROP TABLE x", "$$ DROP $$",
            "lodash\u{0}", "名前; DROP",
        ]
        try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            // One package whose name is itself hostile, to show such text is found exactly.
            try connection.execute("INSERT INTO packages (ecosystem_id, name) VALUES (1, \("O'Brien\"; --"))")
            let before = try Self.tableCounts(connection)
            for value in values where !value.contains("\u{0}") {
                for key in ["name", "name like", "name in"] {
                    let operand: JSONValue = key.hasSuffix(" in") ? [.string(value), "lodash"] : .string(value)
                    let query = try FilterQuery(parsing: ["table": "packages", "select": "name", "where": [key: operand]])
                    let text = query.sql.rendered().text
                    #expect(!text.contains("DROP") && !text.contains("DELETE") && !text.contains("'"), "\(text)")
                    let names = try connection.withReadOnlyScope(timeout: .seconds(10)) { try $0.query(query.sql) }
                        .map { try $0.decode(String.self, column: "name") }
                    let expected = ([value] + (key.hasSuffix(" in") ? ["lodash"] : [])).filter { ["O'Brien\"; --", "lodash"].contains($0) }
                    #expect(names.sorted() == expected.sorted(), "\(key): \(value)")
                }
            }
            // A quote inside a LIKE pattern is a character to match, like any other.
            let quoted = try FilterQuery(parsing: ["table": "packages", "select": "name", "where": ["name like": "%'%"]])
            #expect(try connection.query(quoted.sql).map { try $0.decode(String.self, column: "name") } == ["O'Brien\"; --"])
            #expect(try Self.tableCounts(connection) == before)
        }
    }

    @Test func aNulByteInAValueIsRefusedWhereItStandsAndCouldNotBeSentAnyway() async throws {
        // PostgreSQL text cannot hold U+0000: the compiler refuses it, naming the key...
        let error = #expect(throws: FilterError.self) {
            try FilterQuery(parsing: ["table": "packages", "where": ["name": "lodash\u{0}; DROP"]])
        }
        #expect(error?.description == #"$filter.where["name"]: a string holding U+0000 cannot be sent to PostgreSQL, whose text cannot hold it"#)
        // ...and were it let through, the driver would refuse to send it.
        try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            let name = "lodash\u{0}; DROP"
            #expect(throws: PostgresError.self) { try connection.query("SELECT count(*) FROM packages WHERE name = \(name)") }
            #expect(try connection.query("SELECT count(*)::bigint FROM packages")[0].decode(Int.self, at: 0) == 7)
        }
    }

    static func tableCounts(_ connection: PostgresConnection) throws -> [Int] {
        try connection.query("""
            SELECT (SELECT count(*) FROM ecosystems)::bigint, (SELECT count(*) FROM packages)::bigint,
                   (SELECT count(*) FROM versions)::bigint, (SELECT count(*) FROM analyses)::bigint,
                   (SELECT count(*) FROM worker_results)::bigint
            """).map { row in try (0..<5).map { try row.decode(Int.self, at: $0) } }[0]
    }
}
