import Postgres
import TestSupport
import Testing

/// `forEachRow`: a result read a row at a time, which a caller may stop early.
@Suite struct RowStreamTests {
    @Test func rowsArriveInOrderOneAtATime() async throws {
        try await withConnection { connection in
            var seen: [Int] = []
            try connection.forEachRow("SELECT n FROM generate_series(1, 1000) AS n ORDER BY n") { row in
                #expect(row.rows.count == 1)  // libpq holds one row, not the result
                seen.append(try row.decode(Int.self, column: "n"))
            }
            #expect(seen == Array(1...1000))
            try connection.forEachRow("SELECT 1 WHERE false") { _ in Issue.record("a row from an empty result") }
        }
    }

    @Test func aBodyThatStopsLeavesTheTransactionUsable() async throws {
        struct Enough: Error {}
        try await withConnection { connection in
            try connection.withTransaction { (tx: PostgresConnection) throws in
                var count = 0
                #expect(throws: Enough.self) {
                    try tx.forEachRow("SELECT repeat('x', 1000) AS pad FROM generate_series(1, 5000)") { row in
                        count += 1
                        #expect(row.byteCount == 1000)
                        if count == 10 { throw Enough() }
                    }
                }
                #expect(count == 10)
                // The rest were read and dropped: the next statement runs in the same transaction.
                #expect(try tx.query("SELECT 2 AS two")[0].decode(Int.self, column: "two") == 2)
                #expect(!tx.isInFailedTransaction)
            }
        }
    }

    @Test func stoppingByClosingEndsAHugeResultAtOnce() async throws {
        struct Enough: Error {}
        let configuration = try TestDatabase.configuration
        try await onThread {
            let connection = try PostgresConnection.connect(configuration)
            let pid = connection.backendPID
            let stopwatch = Stopwatch()
            var count = 0
            #expect(throws: Enough.self) {
                // A hundred million rows, streamed from a join (a lone generate_series would be
                // built whole before its first row): reading them all would take minutes.
                try connection.forEachRow(
                    "SELECT a.n FROM generate_series(1, 10000) AS a(n), generate_series(1, 10000) AS b(n)", stopping: .closing
                ) { _ in
                    count += 1
                    if count == 10 { throw Enough() }
                }
            }
            #expect(count == 10)
            #expect(stopwatch.elapsed < 10, "\(stopwatch.elapsed) s")
            #expect(!connection.isConnected)
            // The server gives the statement up too, within a second or so of the close.
            let observer = try PostgresConnection.connect(configuration)
            #expect(
                eventually(timeout: 20) {
                    (try? observer.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = \(pid)")[0].decode(Int.self, column: "n")) == 0
                }, "backend \(pid) still runs")
        }
    }

    @Test func aStatementThatFailsPartWayThrowsItsError() async throws {
        try await withConnection { connection in
            var count = 0
            do {
                // Division by zero at the fourth row, after three were sent.
                try connection.forEachRow("SELECT 10 / (4 - n) AS q FROM generate_series(1, 5) AS n") { _ in count += 1 }
                Issue.record("no error")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22012", "\(error)")
            }
            #expect(count <= 3)
            #expect(try connection.query("SELECT 1 AS one")[0].decode(Int.self, column: "one") == 1)
        }
    }
}
