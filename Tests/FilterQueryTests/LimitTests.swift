import FilterQuery
import JSON
import Postgres
import TestSupport
import Testing

/// Every limit, at the limit and one past it.
@Suite struct LimitTests {
    /// A filter whose `where` nests `depth` sub-selects.
    static func nested(depth: Int) -> JSONValue {
        var query: JSONValue = ["table": "versions", "select": "id"]
        for _ in 0..<depth {
            query = ["table": "versions", "select": "id", "where": ["id in": ["$filter": query]]]
        }
        return query
    }

    @Test func sixteenSubselectsCompileAndRunAndSeventeenAreRefused() async throws {
        let deepest = try FilterQuery(parsing: Self.nested(depth: 16))
        let error = #expect(throws: FilterError.self) { try FilterQuery(parsing: Self.nested(depth: 17)) }
        #expect(error?.message == "sub-selects nest deeper than 16")
        #expect(error?.path.hasPrefix(#"$filter.where["id in"].$filter.where["id in"]"#) == true)
        let count = try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            return try connection.query(deepest.sql).count
        }
        #expect(count == 14)
    }

    @Test func thirtyTwoNestedGroupsAreAcceptedAndThirtyThreeRefused() throws {
        func grouped(_ depth: Int) -> JSONValue {
            var condition: JSONValue = ["id": 1]
            for _ in 0..<depth { condition = ["$or": [condition, ["id": 2]]] }
            return ["table": "versions", "where": condition]
        }
        _ = try FilterQuery(parsing: grouped(32))
        let error = #expect(throws: FilterError.self) { try FilterQuery(parsing: grouped(33)) }
        #expect(error?.message == "'$or'/'$and' groups nest deeper than 32")
    }

    @Test func tenThousandValuesInAListRunAndOneMoreIsRefused() async throws {
        let list = (1...10_000).map { JSONValue.int(Int64($0)) }
        let query = try FilterQuery(parsing: ["table": "versions", "where": ["id in": .array(list)]])
        let error = #expect(throws: FilterError.self) {
            try FilterQuery(parsing: ["table": "versions", "where": ["id in": .array(list + [10_001])]])
        }
        #expect(error?.description == #"$filter.where["id in"]: the list has 10001 values; at most 10000 are accepted"#)
        let count = try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            return try connection.query(query.sql).count
        }
        #expect(count == 14)
    }

    static func document(values: Int) -> JSONValue {
        let lists = stride(from: 0, to: values, by: 10_000).map { start in
            JSONValue.object(["id in": .array((start..<min(start + 10_000, values)).map { .int(Int64($0)) })])
        }
        return ["table": "versions", "select": "id", "where": ["$or": .array(lists)]]
    }

    @Test func sixtyFiveThousandFiveHundredThirtyFourValuesRunAndOneMoreIsRefused() async throws {
        let query = try FilterQuery(parsing: Self.document(values: 65_534))
        let error = #expect(throws: FilterError.self) { try FilterQuery(parsing: Self.document(values: 65_535)) }
        #expect(error?.message == "the filter has more than 65534 values; PostgreSQL binds at most 65,535 to a statement, one of them Kairos's")
        let count = try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            return try connection.query(query.sql).count
        }
        #expect(count == 14)
    }

    @Test func aDocumentOfOneMebibyteIsAcceptedAndOneByteMoreRefused() throws {
        func document(bytes: Int) -> JSONValue {
            let frame: JSONValue = ["table": "versions", "where": ["identifier": ""]]
            let padding = String(repeating: "x", count: bytes - frame.serialized().utf8.count)
            return ["table": "versions", "where": ["identifier": .string(padding)]]
        }
        #expect(document(bytes: 1 << 20).serialized().utf8.count == 1 << 20)
        _ = try FilterQuery(parsing: document(bytes: 1 << 20))
        let error = #expect(throws: FilterError.self) { try FilterQuery(parsing: document(bytes: (1 << 20) + 1)) }
        #expect(error?.description == "$filter: the document is 1048577 bytes; at most 1048576 are accepted")
    }

    @Test(arguments: [
        "pg_authid", "pg_catalog.pg_authid", "PG_CATALOG.pg_class", "pg_stat_activity", "information_schema.tables",
        "pg_toast.pg_toast_1", "pg_temp.x", "Information_Schema.columns", "Pg_Roles",
        // A three-part name starts with the database: PostgreSQL reads kairos.pg_catalog.pg_authid
        // when kairos is the current database.
        "kairos.pg_catalog.pg_authid", "anydb.information_schema.tables",
    ])
    func postgresOwnCatalogsAreRefusedWithoutAnAllowlist(table: String) throws {
        for document in [
            #"{"table": "\#(table)"}"#,
            #"{"table": "versions", "joins": {"table": "\#(table) AS c", "using": "oid"}}"#,
            #"{"table": "versions", "where": {"id in": {"$filter": {"table": "\#(table)"}}}}"#,
        ] {
            let error = #expect(throws: FilterError.self) { try compile(document) }
            #expect(error?.message.contains("is one of PostgreSQL's own catalogs") == true, "\(document)")
        }
        _ = try compile(#"{"table": "\#(table)"}"#, limits: FilterLimits(allowedTables: [table]))
        _ = try compile(#"{"table": "public.pgx_versions"}"#)
        // Only the schema counts (the table's own name when unqualified), and only a whole
        // "information_schema" or a "pg_" start.
        for near in ["pg", "pgsql_versions", "public.pg_versions", "pg_db.public.versions", "information_schemas", "information"] {
            _ = try compile(#"{"table": "\#(near)"}"#)
        }
    }

    @Test func anAllowlistAdmitsOnlyItsTablesAnywhereInTheQuery() throws {
        let limits = FilterLimits(allowedTables: ["versions", "packages"])
        _ = try compile(#"{"table": "versions", "joins": {"table": "packages", "using": "id"}}"#, limits: limits)
        for document in [
            #"{"table": "jobs"}"#,
            #"{"table": "versions", "joins": [{"table": "jobs", "using": "id"}]}"#,
            #"{"table": "versions", "where": {"id in": {"$filter": {"table": "public.versions", "select": "id"}}}}"#,
        ] {
            let error = #expect(throws: FilterError.self) { try compile(document, limits: limits) }
            #expect(error?.message.hasSuffix("is not one a filter may read; allowed: packages, versions") == true, "\(document)")
        }
    }

    /// Kairos's own tables, in any schema and any case, anywhere in a query, whatever the
    /// allowlists say.
    @Test func protectedTablesAreNeverRead() throws {
        let limits = FilterLimits(
            allowedTables: ["versions", "jobs", "public.jobs", "kairos.runs", "JOBS", "runs"], protectedTables: ["jobs", "runs"])
        for document in [
            #"{"table": "jobs"}"#, #"{"table": "public.jobs"}"#, #"{"table": "kairos.runs AS r"}"#, #"{"table": "JOBS"}"#,
            #"{"table": "versions", "joins": [{"table": "jobs", "using": "id"}]}"#,
            #"{"table": "versions", "where": {"id in": {"$filter": {"table": "runs", "select": "id"}}}}"#,
        ] {
            let error = #expect(throws: FilterError.self) { try compile(document, limits: limits) }
            #expect(error?.message.hasSuffix("is one of Kairos's own tables, which a filter never reads") == true, "\(document)")
        }
        _ = try compile(#"{"table": "jobs_archive"}"#, limits: FilterLimits(protectedTables: ["jobs"]))
    }

    /// Unqualified names and the default schema are readable; another schema only when allowed,
    /// as the schema named exactly (names are quoted, so case counts).
    @Test func aSchemaBeyondTheDefaultOneNeedsTheAllowlist() throws {
        for readable in ["versions", "public.versions", "db.public.versions"] {
            _ = try compile(#"{"table": "\#(readable)"}"#)
        }
        for document in [
            #"{"table": "secret.creds"}"#,
            #"{"table": "versions", "joins": [{"table": "secret.creds", "using": "id"}]}"#,
            #"{"table": "versions", "where": {"id in": {"$filter": {"table": "db.secret.creds", "select": "id"}}}}"#,
        ] {
            let error = #expect(throws: FilterError.self) { try compile(document) }
            #expect(error?.message.hasSuffix(#"is in schema "secret", which a filter may read only when the allowlist of filter schemas names it"#) == true,
                    "\(document): \(error?.message ?? "")")
        }
        _ = try compile(#"{"table": "reports.sales"}"#, limits: FilterLimits(allowedSchemas: ["reports"]))
        #expect(throws: FilterError.self) { try compile(#"{"table": "Reports.sales"}"#, limits: FilterLimits(allowedSchemas: ["reports"])) }
        // A table the allowlist names is readable whatever its schema.
        _ = try compile(#"{"table": "secret.creds"}"#, limits: FilterLimits(allowedTables: ["secret.creds"]))
    }
}
