import SQLBuilding
import Testing

/// How statements are put together: literals, names, values and fragments, numbered at the end.
@Suite struct SQLBuildingTests {
    @Test func aPlainLiteralRendersAsWritten() {
        let sql: SQL = """
            INSERT INTO jobs (job_id) VALUES ('f1') -- "quoted" text stays as written
            """
        #expect(sql.rendered().text == #"INSERT INTO jobs (job_id) VALUES ('f1') -- "quoted" text stays as written"#)
        #expect(sql.rendered().parameters.isEmpty)
    }

    @Test func fragmentsAreNumberedTogetherWhereverTheyJoin() throws {
        let table = try SQLIdentifier(qualified: "public.jobs")
        let condition: SQL = "state = \("running") AND n > \(5)"
        let query: SQL = "SELECT * FROM \(table) WHERE id = \("a") AND \(condition) LIMIT \(10)"
        #expect(query.rendered().text == #"SELECT * FROM "public"."jobs" WHERE id = $1 AND state = $2 AND n > $3 LIMIT $4"#)
        #expect(query.rendered().parameters.map(\.text) == ["a", "running", "5", "10"])
        let joined = SQL.joined([condition, "x = \(true)", condition], separator: " OR ")
        #expect(joined.rendered().text == "state = $1 AND n > $2 OR x = $3 OR state = $4 AND n > $5")
    }

    @Test func appendingInPlaceBuildsTheSameStatement() throws {
        var sql = SQL.empty
        sql.append("SELECT ")
        sql.append(try SQLIdentifier(qualified: "a.b.c"))
        sql.append(" FROM t WHERE x = ")
        sql.append(value: "v")
        sql.append(" AND ")
        sql.append(contentsOf: "y IN (\(1), \(2))")
        sql.append(value: 3)
        #expect(sql.rendered().text == #"SELECT "a"."b"."c" FROM t WHERE x = $1 AND y IN ($2, $3)$4"#)
        #expect(sql.readableText() == #"SELECT "a"."b"."c" FROM t WHERE x = 'v' AND y IN (1, 2)3"#)
    }

    @Test(arguments: [
        ("versions", #""versions""#), ("versions.identifier", #""versions"."identifier""#), ("a.b.c", #""a"."b"."c""#),
        ("_x9", #""_x9""#), ("Mixed_Case", #""Mixed_Case""#),
    ])
    func namesAreQuotedPartByPart(name: String, quoted: String) throws {
        let identifier = try SQLIdentifier(qualified: name)
        #expect(identifier.quoted == quoted)
        #expect(identifier.description == name)
        #expect(identifier.parts == name.split(separator: ".").map(String.init))
    }

    @Test(arguments: [
        "", ".", "a.", ".a", "a..b", "a.b.c.d", "9a", "a-b", "a b", "a\"b", "a;b", "é", String(repeating: "x", count: 64),
    ])
    func namesOutsideThePatternAreRefused(name: String) {
        #expect(throws: SQLIdentifierError.self) { try SQLIdentifier(qualified: name) }
    }

    @Test func aNameOfSixtyThreeBytesIsTheLongestAccepted() throws {
        let longest = String(repeating: "x", count: 63)
        #expect(try SQLIdentifier(validating: longest).description == longest)
        #expect(throws: SQLIdentifierError.self) { try SQLIdentifier(validating: longest + "x") }
        #expect(throws: SQLIdentifierError.self) { try SQLIdentifier(validating: "a.b") }
    }
}
