import Postgres
import SQLBuilding
import TestSupport
import Testing

/// A statement a connection runs again is prepared once and then only executed; one-off texts
/// are not, and the results and errors are those of an unnamed statement either way.
@Suite struct PreparedStatementTests {
    static func preparedCount(_ connection: PostgresConnection) throws -> Int {
        // A text of its own each time (its alias), so it is never prepared itself.
        let alias = try SQLIdentifier(validating: "n\(UInt32.random(in: 0...UInt32.max))")
        return try connection.query("SELECT count(*)::bigint AS \(alias) FROM pg_prepared_statements WHERE name LIKE 'kairos\\_%'")[0]
            .decode(Int.self, at: 0)
    }

    @Test func aRepeatedStatementIsPreparedOnceAndAnswersAsBefore() async throws {
        try await withConnection { connection throws in
            for value in [1, 2, 3, 4] {
                let row = try connection.query("SELECT \(Int64(value)) + 1 AS n, \("text \(value)") AS t")[0]
                #expect(try row.decode(Int.self, column: "n") == value + 1 && row.decode(String.self, column: "t") == "text \(value)")
            }
            #expect(try Self.preparedCount(connection) == 1)
            // Other parameter types make another statement.
            _ = try connection.query("SELECT \(1.5) + 1 AS n, \("x") AS t")
            _ = try connection.query("SELECT \(2.5) + 1 AS n, \("y") AS t")
            #expect(try Self.preparedCount(connection) == 2)
        }
    }

    @Test func aStatementTheServerRefusesFailsTheSameWayPreparedOrNot() async throws {
        try await withConnection { connection throws in
            for _ in 0..<3 {
                #expect {
                    try connection.query("SELECT no_such_column FROM pg_class WHERE oid = \(Int64(0))")
                } throws: { error in
                    (error as? PostgresError)?.sqlState == "42703"
                }
            }
            #expect(try Self.preparedCount(connection) == 0)
        }
    }

    /// A column's type changed under a prepared statement (another replica migrated): outside a
    /// transaction the call still answers, with the new type; the statement is prepared anew.
    @Test func aStatementWhoseResultChangedTypeIsRunAgainUnnamed() async throws {
        try await withSchemaConnection { connection throws in
            try connection.execute("CREATE TABLE widened (a integer)")
            try connection.execute("INSERT INTO widened VALUES (\(Int32(7)))")
            for _ in 0..<3 { #expect(try connection.query("SELECT a FROM widened")[0].decode(Int.self, column: "a") == 7) }
            #expect(try Self.preparedCount(connection) >= 1)
            try connection.execute("ALTER TABLE widened ALTER COLUMN a TYPE text")
            #expect(try connection.query("SELECT a FROM widened")[0].decode(String.self, column: "a") == "7")
            // Inside a transaction the error is the statement's: the transaction is aborted.
            for _ in 0..<2 { _ = try connection.query("SELECT a FROM widened") }
            try connection.execute("BEGIN")
            try connection.execute("ALTER TABLE widened ALTER COLUMN a TYPE bigint USING a::bigint")
            #expect { try connection.query("SELECT a FROM widened") } throws: { ($0 as? PostgresError)?.sqlState == "0A000" }
            try connection.execute("ROLLBACK")
            #expect(try connection.query("SELECT a FROM widened")[0].decode(String.self, column: "a") == "7")
        }
    }

    @Test func theNumberPreparedIsBounded() async throws {
        try await withConnection { connection throws in
            for index in 0..<(PostgresConnection.mostPrepared + 20) {
                let alias = try SQLIdentifier(validating: "n\(index)")
                for _ in 0..<2 { _ = try connection.query("SELECT \(Int64(index)) AS \(alias)") }
            }
            #expect(try Self.preparedCount(connection) == PostgresConnection.mostPrepared)
        }
    }
}
