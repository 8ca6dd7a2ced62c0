import FilterQuery
import JSON
import Jobs
import Postgres
import TestSupport
import Testing

/// The `$filter` debug endpoints over a real socket, on fabric8's tables.
@Suite struct FilterRoutesTests {
    static let fabric8Example = FilterFixture.unfinishedWithoutNewerFinished

    @Test(arguments: ["/api/v1/debug-show-select-query", "/api/v1/debug/show-select-query"])
    func showSelectQueryGivesTheSQLItsParametersAndAReadableForm(path: String) async throws {
        try await APIFixture.with { api throws in
            let reply = try api.call("POST", path, body: #"{"$filter": {"table": "analyses", "where": {"started_at >": "2017-04-01 20:00:00", "release like": "npm:%", "id in": [1, 2]}, "limit": 5}, "force": true}"#)
            #expect(reply.status == 200)
            #expect(reply.json["sql"] == #"SELECT * FROM "analyses" WHERE "started_at" > $1 AND "release" LIKE $2 AND "id" IN ($3, $4) LIMIT $5"#)
            #expect(reply.json["params"] == ["2017-04-01 20:00:00", "npm:%", 1, 2, 5])
            #expect(reply.json["query"] == #"SELECT * FROM "analyses" WHERE "started_at" > '2017-04-01 20:00:00' AND "release" LIKE 'npm:%' AND "id" IN (1, 2) LIMIT 5"#)
        }
    }

    @Test(arguments: ["/api/v1/debug-expand-filter", "/api/v1/debug/expand-filter-query"])
    func expandFilterGivesTheMatchingRowsWithTheExtraKeys(path: String) async throws {
        try await APIFixture.with { api throws in
            try api.pool.withConnection { try FilterFixture.create(on: $0) }
            let reply = try api.call("POST", path, body: Self.fabric8Example)
            #expect(reply.status == 200)
            let matched = try #require(reply.json["matched"]?.arrayValue)
            #expect(Set(matched.compactMap { $0.objectValue }) == Set([
                ("serve-static", "1.7.1", "npm"), ("serve-static", "1.10.0", "npm"), ("junit:junit", "4.11", "maven"),
                ("com.google.guava:guava", "19.0", "maven"), ("requests", "2.13.0", "pypi"), ("flask", "0.12", "pypi"),
                ("flask", "1.0", "pypi"),
            ].map { ["name": .string($0.0), "version": .string($0.1), "ecosystem": .string($0.2), "force": true] as JSONObject }))
        }
    }

    @Test(arguments: [
        (#"{"$filter": {"table": "packages", "where": {"nme": "x"}}}"#,
         #"the database refused the filter query: column "nme" does not exist (Perhaps you meant to reference the column "packages.name".)"#),
        (#"{"$filter": {"table": "analyses", "where": {"started_at >": "yesterday-ish"}}}"#,
         #"the database refused the filter query: invalid input syntax for type timestamp with time zone: "yesterday-ish""#),
        (#"{"$filter": {"table": "no_such_table"}}"#, #"the database refused the filter query: relation "no_such_table" does not exist"#),
        (#"{"$filter": {"table": "packages", "where": {"name": 5}}}"#,
         "the database refused the filter query: operator does not exist: text = bigint (No operator matches the given name and argument types. You might need to add explicit type casts.)"),
        (#"{"$filter": {"table": "packages", "where": {"id =": {"$filter": {"table": "versions", "select": "id"}}}}}"#,
         "the database refused the filter query: more than one row returned by a subquery used as an expression"),
        (#"{"$filter": {"table": "packages", "joins": {"table": "versions", "using": "id"}, "select": "name"}}"#, nil),
    ] as [(String, String?)])
    func aFilterTheDatabaseRefusesIsA400WithItsMessage(body: String, message: String?) async throws {
        try await APIFixture.with { api throws in
            try api.pool.withConnection { try FilterFixture.create(on: $0) }
            let reply = try api.call("POST", "/api/v1/debug-expand-filter", body: body)
            if let message {
                #expect(reply.status == 400)
                #expect(reply.error == message)
            } else {
                #expect(reply.status == 200)
            }
        }
    }

    @Test func aBodyWithoutAFilterIsA400() async throws {
        try await APIFixture.with { api throws in
            for path in ["/api/v1/debug-expand-filter", "/api/v1/debug-show-select-query"] {
                let reply = try api.call("POST", path, body: #"{"table": "versions"}"#)
                #expect(reply.status == 400)
                #expect(reply.error == #"the body must hold a "$filter" query, such as {"$filter": {"table": "versions"}}"#)
                #expect(try api.call("POST", path, body: "[1]").status == 400)
                #expect(try api.call("POST", path + "?x=1", body: #"{"$filter": {"table": "t"}}"#).status == 400)
                #expect(try api.call("GET", path).status == 405)
            }
        }
    }

    @Test func hostileDocumentsAre400AndLeaveTheDatabaseUnchanged() async throws {
        let hostile = [
            #"{"$filter": {"table": "packages; DROP TABLE packages"}}"#,
            #"{"$filter": {"table": "packages AS p; DELETE FROM packages"}}"#,
            #"{"$filter": {"table": "packages", "select": "name); DROP TABLE packages; --"}}"#,
            #"{"$filter": {"table": "packages", "where": {"name = '' OR 1=1; DELETE FROM packages; --": 1}}}"#,
            #"{"$filter": {"table": "packages", "where": {"name ; DROP TABLE packages": 1}}}"#,
            #"{"$filter": {"table": "packages", "order_by": "name; DROP TABLE packages"}}"#,
            #"{"$filter": {"table": "packages", "group_by": "(DELETE FROM packages)"}}"#,
            #"{"$filter": {"table": "packages", "joins": {"table": "versions", "on": {"packages.id = 1; DROP TABLE versions; --": "versions.id"}}}}"#,
            #"{"$filter": {"table": "packages", "limit": "1; DROP TABLE packages"}}"#,
            #"{"$filter": {"table": "packages", "where": {"name in": {"$filter": {"table": "x\"; DROP TABLE packages; --"}}}}}"#,
            #"{"$filter": {"table": "packages", "where": {"$or": "1=1"}}}"#,
            #"{"$filter": "SELECT * FROM packages; DROP TABLE packages"}"#,
            #"{"$filter": {"table": "packages", "where": {"name": {"$filter": {"table": "packages"}, "$or": []}}}}"#,
        ]
        try await APIFixture.with { api throws in
            try api.pool.withConnection { try FilterFixture.create(on: $0) }
            for body in hostile {
                for path in ["/api/v1/debug-expand-filter", "/api/v1/debug-show-select-query"] {
                    let reply = try api.call("POST", path, body: body)
                    #expect(reply.status == 400, "\(path) \(body)")
                    #expect(reply.error?.hasPrefix("$filter") == true, "\(reply.error ?? "")")
                }
                let job = #"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_arguments": ["# + body + "]}}"
                #expect(try api.call("POST", "/api/v1/jobs", body: job).status == 400, "\(body)")
            }
            // A value is data, however it is written.
            let data = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "packages", "where": {"name": "x'; DROP TABLE packages; --"}}}"#)
            #expect(data.json["matched"] == [])
            #expect(try api.call("GET", "/api/v1/jobs").json["jobs_count"] == 0)
            let counts = try api.pool.withConnection { connection in
                try connection.query("SELECT (SELECT count(*) FROM packages)::bigint AS p, (SELECT count(*) FROM versions)::bigint AS v")
                    .map { [try $0.decode(Int.self, column: "p"), try $0.decode(Int.self, column: "v")] }[0]
            }
            #expect(counts == [7, 14])
        }
    }

    @Test func theConfiguredPolicyGovernsTheEndpoints() async throws {
        let policy = FilterPolicy(limits: FilterLimits(allowedTables: ["versions"]), maximumRows: 13)
        try await APIFixture.with(handlers: .standard(filters: policy)) { api throws in
            try api.pool.withConnection { try FilterFixture.create(on: $0) }
            let forbidden = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "packages"}}"#)
            #expect(forbidden.status == 400)
            #expect(forbidden.error == #"$filter.table: table "packages" is not one a filter may read; allowed: versions"#)
            let tooMany = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "versions"}}"#)
            #expect(tooMany.status == 400)
            #expect(tooMany.error == "the filter matches more than 13 rows, the most one expansion may post; narrow its 'where' or add a 'limit'")
            let capped = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "versions", "limit": 13}}"#)
            #expect(capped.json["matched"]?.arrayValue?.count == 13)
            let job = #"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_arguments": [{"$filter": {"table": "packages"}}]}}"#
            #expect(try api.call("POST", "/api/v1/jobs", body: job).status == 400)
        }
    }

    /// Kairos's own tables hold every job's kwargs: no filter reads them, through either debug
    /// endpoint or a job, even with an allowlist that names them; another schema needs its own.
    @Test(arguments: ["jobs", "runs", "flows", "service_state", "schema_migrations"])
    func kairosOwnTablesAreNeverReadable(table: String) async throws {
        let policy = FilterPolicy(limits: FilterLimits(allowedTables: [table]))
        try await APIFixture.with(handlers: .standard(filters: policy)) { api throws in
            let message = "$filter.table: table \"\(table)\" is one of Kairos's own tables, which a filter never reads"
            for path in ["/api/v1/debug-expand-filter", "/api/v1/debug-show-select-query"] {
                let reply = try api.call("POST", path, body: #"{"$filter": {"table": "\#(table)"}}"#)
                #expect(reply.status == 400)
                #expect(reply.error == message, "\(path)")
            }
            let job = try api.call("POST", "/api/v1/jobs", body: #"{"handler": "FlowScheduling", "kwargs": {"flow_name": "f", "flow_arguments": [{"$filter": {"table": "\#(table)"}}]}}"#)
            #expect(job.status == 400)
            #expect(job.error == "'kwargs' for FlowScheduling: 'flow_arguments'[0].\(message)")
        }
    }

    @Test func anotherSchemaIsReadableOnlyWhenAllowed() async throws {
        try await APIFixture.with { api throws in
            let refused = try api.call("POST", "/api/v1/debug-show-select-query", body: #"{"$filter": {"table": "secret.creds"}}"#)
            #expect(refused.status == 400)
            #expect(refused.error == #"$filter.table: table "secret.creds" is in schema "secret", which a filter may read only when the allowlist of filter schemas names it"#)
        }
        let policy = FilterPolicy(limits: FilterLimits(allowedSchemas: ["secret"]))
        try await APIFixture.with(handlers: .standard(filters: policy)) { api throws in
            #expect(try api.call("POST", "/api/v1/debug-show-select-query", body: #"{"$filter": {"table": "secret.creds"}}"#).status == 200)
        }
    }

    /// Programs build `in` lists, and an empty one is normal: `in []` matches nothing, `not in []`
    /// everything, and the column is still checked.
    @Test func anEmptyListMatchesNothingAndItsNegationEverything() async throws {
        try await APIFixture.with { api throws in
            try api.pool.withConnection { try FilterFixture.create(on: $0) }
            let all = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "ecosystems"}}"#).json["matched"]
            let none = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "ecosystems", "where": {"id in": []}}}"#)
            #expect(none.status == 200)
            #expect(none.json["matched"] == [])
            let bare = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "ecosystems", "where": {"id": []}}}"#)
            #expect(bare.json["matched"] == [])
            let every = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "ecosystems", "where": {"name not in": []}}}"#)
            #expect(every.status == 200)
            #expect(every.json["matched"] == all)
            #expect(all?.arrayValue?.isEmpty == false)
            let typo = try api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "ecosystems", "where": {"nmae in": []}}}"#)
            #expect(typo.status == 400)
            #expect(typo.error?.contains(#"column "nmae" does not exist"#) == true, "\(typo.text)")
        }
    }

    /// PostgreSQL's text cannot hold U+0000: both endpoints say so, naming the key.
    @Test(arguments: ["/api/v1/debug-expand-filter", "/api/v1/debug-show-select-query"])
    func aStringHoldingNULIsA400NamingTheKey(path: String) async throws {
        try await APIFixture.with { api throws in
            let reply = try api.call("POST", path, body: #"{"$filter": {"table": "ecosystems", "where": {"name in": ["npm", "a\u0000b"]}}}"#)
            #expect(reply.status == 400)
            #expect(reply.error == #"$filter.where["name in"][1]: a string holding U+0000 cannot be sent to PostgreSQL, whose text cannot hold it"#,
                    "\(reply.text)")
        }
    }

    /// The deepest filter the limits accept (16 sub-selects, each with 32 nested groups) goes
    /// through a request body; one group more is refused by the group limit, named, not by a
    /// JSON nesting limit below it.
    @Test func theDeepestFilterTheLimitsAcceptFitsInABody() async throws {
        @Sendable func groups(_ depth: Int, around inner: JSONValue) -> JSONValue {
            var condition = inner
            for _ in 0..<depth { condition = ["$or": [condition]] }
            return condition
        }
        @Sendable func filter(subselects: Int, groups depth: Int) -> JSONValue {
            var query: JSONValue = ["table": "versions", "select": "id", "where": groups(depth, around: ["id": 1])]
            for _ in 0..<subselects {
                query = ["table": "versions", "select": "id", "where": groups(depth, around: ["id in": ["$filter": query]])]
            }
            return ["$filter": query]
        }
        try await APIFixture.with { api throws in
            let deepest = try api.call("POST", "/api/v1/debug-show-select-query", json: filter(subselects: 16, groups: 32))
            #expect(deepest.status == 200, "\(deepest.text.prefix(300))")
            let deeper = try api.call("POST", "/api/v1/debug-show-select-query", json: filter(subselects: 0, groups: 33))
            #expect(deeper.status == 400)
            #expect(deeper.error?.hasSuffix("'$or'/'$and' groups nest deeper than 32") == true, "\(deeper.text)")
            let job = try api.call("POST", "/api/v1/jobs", json: ["handler": "FlowScheduling", "kwargs": ["flow_name": "f", "flow_arguments": [filter(subselects: 16, groups: 32)]]])
            #expect(job.status == 201, "\(job.text.prefix(300))")
        }
    }
}
