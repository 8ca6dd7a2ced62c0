import Chronology
import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

@Suite struct ReadOnlyScopeTests {
    @Test func onAnIdleConnectionItIsAReadOnlyTransaction() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE t (n integer)")
            let error = #expect(throws: PostgresError.self) {
                try connection.withReadOnlyScope(timeout: .seconds(5)) { try $0.execute("INSERT INTO t VALUES (1)") }
            }
            #expect(error?.sqlState == "25006")
            #expect(connection.isIdle)
            let setting = try connection.withReadOnlyScope(timeout: .milliseconds(1500)) {
                try $0.query("SELECT current_setting('statement_timeout') AS timeout, current_setting('transaction_read_only') AS ro")[0]
            }
            #expect(try setting.decode(String.self, column: "timeout") == "1500ms")
            #expect(try setting.decode(String.self, column: "ro") == "on")
        }
    }

    @Test func insideATransactionItIsASavepointTheTransactionOutlives() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE t (n integer)")
            try connection.withTransaction { tx in
                try tx.execute("INSERT INTO t VALUES (1)")
                // A write inside the scope fails, and takes nothing else with it.
                let refused = #expect(throws: PostgresError.self) {
                    try tx.withReadOnlyScope(timeout: .seconds(5)) { try $0.execute("INSERT INTO t VALUES (2)") }
                }
                #expect(refused?.sqlState == "25006")
                // So does a query error; the scope sees the transaction's own rows.
                #expect(throws: PostgresError.self) {
                    try tx.withReadOnlyScope(timeout: .seconds(5)) { try $0.query("SELECT nope FROM t") }
                }
                let seen = try tx.withReadOnlyScope(timeout: .seconds(5)) { try $0.query("SELECT count(*)::bigint FROM t")[0].decode(Int.self, at: 0) }
                #expect(seen == 1)
                // The settings end with the scope: the transaction writes again, without a timeout.
                try tx.execute("INSERT INTO t VALUES (3)")
                #expect(try tx.query("SELECT current_setting('statement_timeout')")[0].decode(String.self, at: 0) == "0")
            }
            #expect(try connection.query("SELECT array_agg(n ORDER BY n) FROM t")[0].decode([Int].self, at: 0) == [1, 3])
        }
    }

    @Test func aStatementPastTheTimeoutIsCancelledAndTheTransactionGoesOn() async throws {
        try await withSchemaConnection { connection in
            try connection.withTransaction { tx throws in
                let error = #expect(throws: PostgresError.self) {
                    try tx.withReadOnlyScope(timeout: .milliseconds(50)) { try $0.query("SELECT pg_sleep(5)") }
                }
                #expect(error?.isQueryCanceled == true)
                #expect(try tx.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
            }
        }
    }
}

@Suite struct ReadableTextTests {
    @Test func valuesAreWrittenInAsLiteralsOfTheirType() throws {
        let table = try SQLIdentifier(validating: "people")
        let at = Timestamp(secondsSinceEpoch: 1_795_521_600)
        let query: SQL = """
            SELECT * FROM \(table) WHERE name = \("O'Brien \\ x") AND n = \(42) AND ok = \(true) AND f = \(2.5) \
            AND g = \(Double.nan) AND at = \(at) AND missing = \(nil as String?) AND j = \(JSONValue.object(["a": 1]))
            """
        #expect(query.readableText() == """
            SELECT * FROM "people" WHERE name = 'O''Brien \\ x' AND n = 42 AND ok = TRUE AND f = 2.5 \
            AND g = 'NaN'::double precision AND at = '2026-11-24 12:00:00+00'::timestamp with time zone AND missing = NULL \
            AND j = '{"a":1}'::json
            """)
    }
}
