import Postgres
import SQLBuilding
import TestSupport
import Testing

/// Several statements in one round trip (libpq's pipeline mode), and transactions whose BEGIN
/// goes with their first statement: the same answers and errors as one statement at a time.
@Suite struct PipelineTests {
    @Test func eachStatementAnswersInOrderPreparedOrNot() async throws {
        try await withConnection { connection throws in
            // The third round finds both prepared (seen twice): the answers must not change.
            for round in 0..<4 {
                let answers = try connection.queries([
                    "SELECT \(Int64(round)) + 1 AS n", "SELECT \("text \(round)") AS t, \(Int64(2)) AS two", "SELECT 1 AS one WHERE false",
                ])
                #expect(answers.count == 3)
                #expect(try answers[0][0].decode(Int.self, column: "n") == round + 1)
                #expect(try answers[1][0].decode(String.self, column: "t") == "text \(round)")
                #expect(try answers[1][0].decode(Int.self, column: "two") == 2)
                #expect(answers[2].isEmpty)
            }
            #expect(try PreparedStatementTests.preparedCount(connection) >= 2)
            // One text twice in a trip, seen once before: prepared once, and both answer.
            let twice: SQL = "SELECT \(Int64(40)) + 2 AS n"
            _ = try connection.query(twice)
            let before = try PreparedStatementTests.preparedCount(connection)
            let answers = try connection.queries([twice, twice])
            #expect(try answers.map { try $0[0].decode(Int.self, column: "n") } == [42, 42])
            #expect(try PreparedStatementTests.preparedCount(connection) == before + 1)
            #expect(try connection.queries([]).isEmpty)
            #expect(try connection.queries(["SELECT 5 AS five"])[0][0].decode(Int.self, column: "five") == 5)
        }
    }

    /// Outside a transaction the statements are one implicit transaction: a failure leaves
    /// none of them, is the failing statement's own error, and the connection goes on.
    @Test func aFailureThrowsItsOwnErrorAndUndoesTheWholePipeline() async throws {
        try await withSchemaConnection { connection throws in
            try connection.execute("CREATE TABLE kept (n integer PRIMARY KEY)")
            for _ in 0..<3 {
                #expect {
                    try connection.queries([
                        "INSERT INTO kept VALUES (\(Int32(1)))", "SELECT no_such_column FROM kept", "INSERT INTO kept VALUES (\(Int32(2)))",
                    ])
                } throws: { ($0 as? PostgresError)?.sqlState == "42703" }
                #expect(connection.isIdle)
                #expect(try connection.query("SELECT count(*)::int AS n FROM kept")[0].decode(Int.self, column: "n") == 0)
            }
            let answers = try connection.queries(["INSERT INTO kept VALUES (\(Int32(1)))", "SELECT count(*)::int AS n FROM kept"])
            #expect(answers[0].affectedRowCount == 1)
            #expect(try answers[1][0].decode(Int.self, column: "n") == 1)
        }
    }

    @Test func aTransactionsFirstStatementCarriesItsBegin() async throws {
        try await withSchemaConnection { connection throws in
            try connection.execute("CREATE TABLE t (n integer PRIMARY KEY)")
            // Begun, though nothing was sent yet: not idle, and both statements in one transaction.
            let ids = try connection.withTransaction { tx in
                #expect(!tx.isIdle)
                let first = try tx.query("SELECT pg_current_xact_id()::text AS id")[0].decode(String.self, column: "id")
                try tx.execute("INSERT INTO t VALUES (\(Int32(1)))")
                let second = try tx.queries(["SELECT pg_current_xact_id()::text AS id", "SELECT 1 AS one"])[0][0].decode(String.self, column: "id")
                return (first, second)
            }
            #expect(ids.0 == ids.1)
            #expect(connection.isIdle)
            #expect(try connection.query("SELECT count(*)::int AS n FROM t")[0].decode(Int.self, column: "n") == 1)

            // A body that throws after writing rolls back; one that throws first sends nothing.
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try connection.withTransaction { tx in
                    try tx.execute("INSERT INTO t VALUES (\(Int32(2)))")
                    throw Stop()
                }
            }
            #expect(throws: Stop.self) { try connection.withTransaction { _ in throw Stop() } }
            #expect(connection.isIdle)
            #expect(try connection.query("SELECT count(*)::int AS n FROM t")[0].decode(Int.self, column: "n") == 1)

            // A first statement that fails (with its BEGIN in the same trip) fails the transaction,
            // which is rolled back: the connection is idle and usable.
            #expect {
                try connection.withTransaction { tx in try tx.execute("INSERT INTO t VALUES (\(Int32(1)))") }
            } throws: { ($0 as? PostgresError)?.sqlState == "23505" }
            #expect(connection.isIdle)
            // A body with no statement commits nothing and leaves nothing open.
            #expect(try connection.withTransaction { _ in 7 } == 7)
            #expect(connection.isIdle)
            // Streaming rows and scripts send the BEGIN first, on its own.
            try connection.withTransaction { tx in
                var seen = 0
                try tx.forEachRow("SELECT n FROM t") { _ in seen += 1 }
                #expect(seen == 1)
                try tx.executeScript("INSERT INTO t VALUES (3); INSERT INTO t VALUES (4)")
            }
            #expect(try connection.query("SELECT count(*)::int AS n FROM t")[0].decode(Int.self, column: "n") == 3)
        }
    }

    /// Statements held for the COMMIT run with it, after the body's own, and fail it when they fail.
    @Test func statementsHeldForTheCommitRunWithItOrFailIt() async throws {
        try await withSchemaConnection { connection throws in
            try connection.execute("CREATE TABLE t (n integer PRIMARY KEY)")
            let seenInBody = try connection.withTransaction { tx in
                tx.executeAtCommit("INSERT INTO t VALUES (\(Int32(2)))")
                try tx.execute("INSERT INTO t VALUES (\(Int32(1)))")
                return try tx.query("SELECT count(*)::int AS n FROM t")[0].decode(Int.self, column: "n")
            }
            #expect(seenInBody == 1)
            #expect(connection.isIdle)
            #expect(try connection.query("SELECT array_agg(n ORDER BY n)::text AS ns FROM t")[0].decode(String.self, column: "ns") == "{1,2}")

            // A held statement that fails: the commit fails, nothing of the transaction stays.
            #expect {
                try connection.withTransaction { tx in
                    try tx.execute("INSERT INTO t VALUES (\(Int32(3)))")
                    tx.executeAtCommit("INSERT INTO t VALUES (\(Int32(1)))")
                }
            } throws: { ($0 as? PostgresError)?.sqlState == "23505" }
            #expect(connection.isIdle)
            #expect(try connection.query("SELECT count(*)::int AS n FROM t")[0].decode(Int.self, column: "n") == 2)

            // Held in a body that ran nothing else: BEGIN, the statement and COMMIT in one trip.
            try connection.withTransaction { tx in tx.executeAtCommit("INSERT INTO t VALUES (\(Int32(4)))") }
            // Held in a body that then throws: dropped with the rollback.
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try connection.withTransaction { tx in
                    tx.executeAtCommit("INSERT INTO t VALUES (\(Int32(5)))")
                    throw Stop()
                }
            }
            try connection.withTransaction { tx in try tx.execute("INSERT INTO t VALUES (\(Int32(6)))") }
            #expect(try connection.query("SELECT array_agg(n ORDER BY n)::text AS ns FROM t")[0].decode(String.self, column: "ns") == "{1,2,4,6}")
        }
    }

    /// Statements run after the commit see what it committed, in a transaction of their own,
    /// in the same round trip; their failure leaves the commit standing; a rollback skips them.
    @Test func followUpsRunAfterTheCommitInTransactionsOfTheirOwn() async throws {
        try await withSchemaConnection { connection throws in
            try connection.execute("CREATE TABLE t (n integer PRIMARY KEY, xact bigint NOT NULL DEFAULT txid_current())")
            try connection.execute("CREATE TABLE seen (total integer, xact bigint NOT NULL DEFAULT txid_current())")
            let followUp: SQL = "INSERT INTO seen (total) SELECT count(*)::int FROM t"
            try connection.withTransaction { tx in
                tx.executeAfterCommit(followUp)
                tx.executeAtCommit("INSERT INTO t (n) VALUES (\(Int32(2)))")
                try tx.execute("INSERT INTO t (n) VALUES (\(Int32(1)))")
            }
            #expect(connection.isIdle)
            // It saw both rows, committed, from another transaction.
            #expect(try connection.query("SELECT total FROM seen")[0].decode(Int.self, column: "total") == 2)
            #expect(try connection.query("SELECT count(DISTINCT t.xact)::int AS n FROM t")[0].decode(Int.self, column: "n") == 1)
            #expect(try connection.query("SELECT count(*)::int AS n FROM t, seen WHERE t.xact = seen.xact")[0].decode(Int.self, column: "n") == 0)

            // A follow-up that fails: the commit stands, the transaction returns its value, and
            // the follow-ups after the failing one in the same trip are skipped.
            let value = try connection.withTransaction { tx in
                try tx.execute("INSERT INTO t (n) VALUES (\(Int32(3)))")
                tx.executeAfterCommit("INSERT INTO t (n) VALUES (\(Int32(1)))")
                tx.executeAfterCommit(followUp)
                return "returned"
            }
            #expect(value == "returned")
            #expect(connection.isIdle)
            #expect(try connection.query("SELECT array_agg(n ORDER BY n)::text AS ns FROM t")[0].decode(String.self, column: "ns") == "{1,2,3}")
            #expect(try connection.query("SELECT count(*)::int AS n FROM seen")[0].decode(Int.self, column: "n") == 1)

            // A commit that fails (a held statement does): the follow-ups do nothing.
            #expect {
                try connection.withTransaction { tx in
                    try tx.execute("INSERT INTO t (n) VALUES (\(Int32(4)))")
                    tx.executeAtCommit("INSERT INTO t (n) VALUES (\(Int32(1)))")
                    tx.executeAfterCommit(followUp)
                }
            } throws: { ($0 as? PostgresError)?.sqlState == "23505" }
            #expect(connection.isIdle)
            // The COMMIT itself fails (a deferred constraint, checked then): the follow-ups do nothing.
            try connection.execute("CREATE TABLE d (n integer UNIQUE DEFERRABLE INITIALLY DEFERRED)")
            #expect {
                try connection.withTransaction { tx in
                    try tx.execute("INSERT INTO d VALUES (\(Int32(1))), (\(Int32(1)))")
                    tx.executeAfterCommit(followUp)
                }
            } throws: { ($0 as? PostgresError)?.sqlState == "23505" }
            #expect(connection.isIdle)
            // A body that throws: rolled back, no follow-up.
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try connection.withTransaction { tx in
                    tx.executeAfterCommit(followUp)
                    try tx.execute("INSERT INTO t (n) VALUES (\(Int32(5)))")
                    throw Stop()
                }
            }
            #expect(try connection.query("SELECT count(*)::int AS n FROM seen")[0].decode(Int.self, column: "n") == 1)
            #expect(try connection.query("SELECT count(*)::int AS n FROM t")[0].decode(Int.self, column: "n") == 3)

            // A body that ran nothing: the follow-up runs alone; then the connection goes on.
            try connection.withTransaction { tx in tx.executeAfterCommit(followUp) }
            #expect(try connection.query("SELECT array_agg(total ORDER BY total)::text AS ts FROM seen")[0].decode(String.self, column: "ts") == "{2,3}")
            #expect(try connection.query("SELECT 1 AS one")[0].decode(Int.self, column: "one") == 1)
        }
    }

    /// A value refused before sending (a NUL) refuses the statement only: the transaction's
    /// BEGIN is still to come with the next one, so what follows stays in the transaction.
    @Test func aRefusedParameterLeavesTheTransactionAsItWas() async throws {
        try await withSchemaConnection { connection throws in
            try connection.execute("CREATE TABLE t (s text)")
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try connection.withTransaction { tx in
                    #expect {
                        try tx.queries(["INSERT INTO t VALUES (\("ok"))", "INSERT INTO t VALUES (\("a\u{0}b"))"])
                    } throws: { ($0 as? PostgresError)?.kind == .invalidParameter }
                    try tx.execute("INSERT INTO t VALUES (\("inside"))")
                    throw Stop()
                }
            }
            #expect(connection.isIdle)
            #expect(try connection.query("SELECT count(*)::int AS n FROM t")[0].decode(Int.self, column: "n") == 0)
        }
    }

    /// A prepared statement whose result changed type (another replica migrated) fails the
    /// transaction it runs in, and is forgotten there, so the next transaction prepares it anew.
    @Test func aStaleStatementIsForgottenInsideATransactionToo() async throws {
        try await withSchemaConnection { connection throws in
            try connection.execute("CREATE TABLE widened (a integer)")
            try connection.execute("INSERT INTO widened VALUES (\(Int32(7)))")
            for _ in 0..<3 { _ = try connection.withTransaction { try $0.query("SELECT a FROM widened") } }
            try connection.execute("ALTER TABLE widened ALTER COLUMN a TYPE text")
            #expect {
                try connection.withTransaction { try $0.query("SELECT a FROM widened") }
            } throws: { ($0 as? PostgresError)?.sqlState == "0A000" }
            let again = try connection.withTransaction { try $0.query("SELECT a FROM widened")[0].decode(String.self, column: "a") }
            #expect(again == "7")
        }
    }
}
