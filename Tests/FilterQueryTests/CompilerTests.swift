import FilterQuery
import JSON
import Postgres
import SQLBuilding
import Testing

/// Parses `text` as JSON and compiles it: the SQL that runs, and the same with values inlined.
func compile(_ text: String, limits: FilterLimits = .standard) throws -> (sql: String, readable: String) {
    let query = try FilterQuery(parsing: try JSONValue(parsing: Array(text.utf8)), limits: limits)
    return (query.sql.rendered().text, query.sql.readableText())
}

@Suite struct CompilerTests {
    @Test(arguments: [
        (#"{"table": "versions"}"#, #"SELECT * FROM "versions""#),
        (#"{"table": "analyses AS A"}"#, #"SELECT * FROM "analyses" AS "A""#),
        (#"{"table": "analyses  as  a"}"#, #"SELECT * FROM "analyses" AS "a""#),
        (#"{"table": "analyses a"}"#, #"SELECT * FROM "analyses" AS "a""#),
        (#"{"table": "public.versions"}"#, #"SELECT * FROM "public"."versions""#),
        (#"{"table": "versions", "select": "identifier"}"#, #"SELECT "identifier" FROM "versions""#),
        (#"{"table": "versions", "select": ["versions.identifier as version", "package_id AS p"]}"#,
         #"SELECT "versions"."identifier" AS "version", "package_id" AS "p" FROM "versions""#),
        (#"{"table": "versions", "select": ["*", "versions.*"]}"#, #"SELECT *, "versions".* FROM "versions""#),
        (#"{"table": "versions", "select": ["count(*)", "COUNT(id) as n", "count( distinct package_id ) AS packages"]}"#,
         #"SELECT count(*), count("id") AS "n", count(DISTINCT "package_id") AS "packages" FROM "versions""#),
        (#"{"table": "versions", "select": ["min(id)", "max(versions.id)", "sum(id) as total", "avg(id)"]}"#,
         #"SELECT min("id"), max("versions"."id"), sum("id") AS "total", avg("id") FROM "versions""#),
        (#"{"table": "versions", "select": "package_id", "distinct": true}"#, #"SELECT DISTINCT "package_id" FROM "versions""#),
        (#"{"table": "analyses", "count": true}"#, #"SELECT COUNT(*) FROM "analyses""#),
        (#"{"table": "analyses", "count": false, "distinct": false}"#, #"SELECT * FROM "analyses""#),
        (#"{"table": "analyses", "joins": {"table": "versions", "on": {"analyses.version_id": "versions.id"}}}"#,
         #"SELECT * FROM "analyses" JOIN "versions" ON "analyses"."version_id" = "versions"."id""#),
        (#"{"table": "a", "joins": [{"table": "b", "on": {"a.x": "b.x", "a.y": "b.y"}}]}"#,
         #"SELECT * FROM "a" JOIN "b" ON "a"."x" = "b"."x" AND "a"."y" = "b"."y""#),
        (#"{"table": "a", "joins": [{"table": "b AS B", "type": "left", "on": {"a.x": "B.x"}}]}"#,
         #"SELECT * FROM "a" LEFT JOIN "b" AS "B" ON "a"."x" = "B"."x""#),
        (#"{"table": "a", "joins": [{"table": "b", "type": "RIGHT", "using": ["x", "y"]}]}"#,
         #"SELECT * FROM "a" RIGHT JOIN "b" USING ("x", "y")"#),
        (#"{"table": "a", "joins": [{"table": "b", "join_type": "full_outer_join", "using": "x"}]}"#,
         #"SELECT * FROM "a" FULL JOIN "b" USING ("x")"#),
        (#"{"table": "a", "joins": [{"table": "b", "join_type": "left outer join", "using": "x"}]}"#,
         #"SELECT * FROM "a" LEFT JOIN "b" USING ("x")"#),
        (#"{"table": "a", "joins": [{"table": "b", "join_type": "join", "using": "x"}, {"table": "c", "type": "inner_join", "using": "x"}]}"#,
         #"SELECT * FROM "a" JOIN "b" USING ("x") JOIN "c" USING ("x")"#),
        (#"{"table": "a", "joins": [{"table": "b"}, {"table": "c", "type": "left"}]}"#,
         #"SELECT * FROM "a" NATURAL JOIN "b" NATURAL LEFT JOIN "c""#),
        (#"{"table": "versions", "group_by": "package_id", "select": ["package_id", "count(*) as n"], "order_by": ["n DESC", "package_id"]}"#,
         #"SELECT "package_id", count(*) AS "n" FROM "versions" GROUP BY "package_id" ORDER BY "n" DESC, "package_id""#),
        (#"{"table": "analyses", "order_by": ["started_at asc nulls first", "count(*) desc NULLS LAST"], "group_by": ["a.b", "c"]}"#,
         #"SELECT * FROM "analyses" GROUP BY "a"."b", "c" ORDER BY "started_at" NULLS FIRST, count(*) DESC NULLS LAST"#),
        (#"{"table": "versions", "limit": 10, "offset": 0}"#, #"SELECT * FROM "versions" LIMIT $1 OFFSET $2"#),
    ])
    func compilesStructure(filter: String, expected: String) throws {
        #expect(try compile(filter).sql == expected)
    }

    @Test(arguments: [
        (#"{"name": "serve-static"}"#, #""name" = $1"#, #""name" = 'serve-static'"#),
        (#"{"name =": "a", "id !=": 1, "id <>": 2, "id <": 3, "id <=": 4, "id >": 5, "id >=": 6}"#,
         #""name" = $1 AND "id" <> $2 AND "id" <> $3 AND "id" < $4 AND "id" <= $5 AND "id" > $6 AND "id" >= $7"#,
         #""name" = 'a' AND "id" <> 1 AND "id" <> 2 AND "id" < 3 AND "id" <= 4 AND "id" > 5 AND "id" >= 6"#),
        (#"{"name like": "serve%", "name NOT LIKE": "x%", "name ilike": "S%", "name not   ilike": "%y"}"#,
         #""name" LIKE $1 AND "name" NOT LIKE $2 AND "name" ILIKE $3 AND "name" NOT ILIKE $4"#,
         #""name" LIKE 'serve%' AND "name" NOT LIKE 'x%' AND "name" ILIKE 'S%' AND "name" NOT ILIKE '%y'"#),
        (#"{"id": [1, 2, 3], "name in": ["a"], "name not in": ["b", "c"], "id =": [4], "id !=": [5]}"#,
         #""id" IN ($1, $2, $3) AND "name" IN ($4) AND "name" NOT IN ($5, $6) AND "id" IN ($7) AND "id" NOT IN ($8)"#,
         #""id" IN (1, 2, 3) AND "name" IN ('a') AND "name" NOT IN ('b', 'c') AND "id" IN (4) AND "id" NOT IN (5)"#),
        (#"{"a in": [], "b": [], "c not in": [], "d !=": []}"#,
         #"(FALSE AND "a" IS NULL) AND (FALSE AND "b" IS NULL) AND (TRUE OR "c" IS NULL) AND (TRUE OR "d" IS NULL)"#,
         #"(FALSE AND "a" IS NULL) AND (FALSE AND "b" IS NULL) AND (TRUE OR "c" IS NULL) AND (TRUE OR "d" IS NULL)"#),
        (#"{"finished_at": null, "a is": null, "b is not": null, "c =": null, "d !=": null}"#,
         #""finished_at" IS NULL AND "a" IS NULL AND "b" IS NOT NULL AND "c" IS NULL AND "d" IS NOT NULL"#,
         #""finished_at" IS NULL AND "a" IS NULL AND "b" IS NOT NULL AND "c" IS NULL AND "d" IS NOT NULL"#),
        (#"{"error is": true, "error IS NOT": false, "error": true, "ok =": false}"#,
         #""error" IS TRUE AND "error" IS NOT FALSE AND "error" = $1 AND "ok" = $2"#,
         #""error" IS TRUE AND "error" IS NOT FALSE AND "error" = TRUE AND "ok" = FALSE"#),
        (#"{"score >": 1.5, "big": 123456789012345678901234567890, "n": -7}"#,
         #""score" > $1 AND "big" = $2 AND "n" = $3"#, #""score" > 1.5 AND "big" = 123456789012345678901234567890 AND "n" = -7"#),
        (#"{"name": "O'Brien\\"}"#, #""name" = $1"#, #""name" = 'O''Brien\'"#),
        (#"{"A.started_at <": "$B.started_at", "price": "$5.00", "note": "$"}"#,
         #""A"."started_at" < "B"."started_at" AND "price" = $1 AND "note" = $2"#,
         #""A"."started_at" < "B"."started_at" AND "price" = '$5.00' AND "note" = '$'"#),
        (#"{"a": 1, "$or": [{"b": 2}, {"c": 3, "d": 4}]}"#,
         #""a" = $1 AND (("b" = $2) OR ("c" = $3 AND "d" = $4))"#, #""a" = 1 AND (("b" = 2) OR ("c" = 3 AND "d" = 4))"#),
        (#"{"$and": [{"$or": [{"a": 1}, {"b": 2}]}, {"c": 3}]}"#,
         #"(((("a" = $1) OR ("b" = $2))) AND ("c" = $3))"#, #"(((("a" = 1) OR ("b" = 2))) AND ("c" = 3))"#),
        (#"{"id in": {"$filter": {"table": "versions", "select": "id", "where": {"identifier": "1.0"}}}}"#,
         #""id" IN (SELECT "id" FROM "versions" WHERE "identifier" = $1)"#,
         #""id" IN (SELECT "id" FROM "versions" WHERE "identifier" = '1.0')"#),
        (#"{"id": {"$filter": {"table": "v", "select": "id"}}, "x not in": {"$filter": {"table": "w", "select": "x"}}}"#,
         #""id" IN (SELECT "id" FROM "v") AND "x" NOT IN (SELECT "x" FROM "w")"#,
         #""id" IN (SELECT "id" FROM "v") AND "x" NOT IN (SELECT "x" FROM "w")"#),
        (#"{"started_at >": {"$filter": {"table": "analyses", "select": "max(started_at)"}}}"#,
         #""started_at" > (SELECT max("started_at") FROM "analyses")"#, #""started_at" > (SELECT max("started_at") FROM "analyses")"#),
    ])
    func compilesConditions(conditions: String, expected: String, readable: String) throws {
        let compiled = try compile(#"{"table": "t", "where": "# + conditions + "}")
        #expect(compiled.sql == #"SELECT * FROM "t" WHERE "# + expected)
        #expect(compiled.readable == #"SELECT * FROM "t" WHERE "# + readable)
    }

    @Test func anEmptyWhereIsNoCondition() throws {
        #expect(try compile(#"{"table": "t", "where": {}}"#).sql == #"SELECT * FROM "t""#)
    }

    @Test func valuesAreParametersInOrderOfAppearance() throws {
        let query = try FilterQuery(parsing: try JSONValue(parsing: Array(#"""
            {"table": "t", "where": {"a": "x", "b in": [1, 2.5], "c": true, "d": 99999999999999999999}, "limit": 5, "offset": 6}
            """#.utf8)))
        let (text, parameters) = query.sql.rendered()
        #expect(text == #"SELECT * FROM "t" WHERE "a" = $1 AND "b" IN ($2, $3) AND "c" = $4 AND "d" = $5 LIMIT $6 OFFSET $7"#)
        #expect(parameters == [
            SQLValue(type: .unknown, text: "x"), SQLValue(type: .int8, text: "1"), SQLValue(type: .float8, text: "2.5"),
            SQLValue(type: .bool, text: "t"), SQLValue(type: .numeric, text: "99999999999999999999"),
            SQLValue(type: .int8, text: "5"), SQLValue(type: .int8, text: "6"),
        ])
        #expect(query.parameterValues == [.string("x"), .int(1), .double(2.5), .bool(true), .decimal("99999999999999999999"), .int(5), .int(6)])
    }

    @Test func parsesIntoTheTypedQuery() throws {
        let query = try FilterQuery(parsing: try JSONValue(parsing: Array(#"""
            {"table": "analyses AS A", "select": "count(distinct A.id) as n",
             "joins": {"table": "versions", "type": "left", "on": {"A.version_id": "versions.id"}},
             "where": {"A.finished_at": null}, "order_by": "n desc", "limit": 3}
            """#.utf8)))
        let id = { (name: String) in try SQLIdentifier(qualified: name) }
        #expect(query == FilterQuery(
            table: .init(name: try id("analyses"), alias: try id("A")),
            output: .columns([.init(.aggregate(.count, .distinct(try id("A.id"))), alias: try id("n"))]),
            joins: [.init(.left, .init(name: try id("versions")), .on([.init(try id("A.version_id"), try id("versions.id"))]))],
            condition: .all([.null(try id("A.finished_at"), negated: false)]),
            orderBy: [.init(.column(try id("n")), descending: true)],
            limit: 3))
    }
}
