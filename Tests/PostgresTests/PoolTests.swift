import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct PoolTests {
    /// A configuration whose connections can be found in pg_stat_activity by application name.
    private func tagged() throws -> (PostgresConfiguration, String) {
        var configuration = try TestDatabase.configuration
        let name = "pool-test-\(UUID().uuidString.prefix(8))"
        configuration.connectionString = try TestDatabase.connectionString(changing: ["application_name": name])
        return (configuration, name)
    }

    private func backends(named name: String) throws -> [Int32] {
        let admin = try PostgresConnection.connect(TestDatabase.configuration)
        return try admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = \(name)")
            .map { try $0.decode(Int32.self, column: "pid") }
    }

    @Test func fiftyBorrowersShareFourConnections() async throws {
        let (configuration, name) = try tagged()
        let pool = PostgresPool(configuration, maximumConnections: 4, acquireTimeout: .seconds(30))
        let peakOpen = LockedBox(0)
        let peakBackends = LockedBox(0)
        let successes = LockedBox(0)
        try await onThread {
            let group = DispatchGroup()
            for index in 0..<50 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    do {
                        let value = try pool.withConnection { connection in
                            peakOpen.update { $0 = max($0, pool.statistics.open) }
                            return try connection.query("SELECT \(index) AS i, pg_sleep(0.01)")[0].decode(Int.self, column: "i")
                        }
                        if value == index { successes.update { $0 += 1 } }
                    } catch {
                        Issue.record("borrower \(index) failed: \(error)")
                    }
                }
                if index % 10 == 0 {
                    let count = (try? self.backends(named: name).count) ?? 0
                    peakBackends.update { $0 = max($0, count) }
                }
            }
            group.wait()
        }
        #expect(successes.get() == 50)
        #expect(peakOpen.get() <= 4)
        #expect(peakBackends.get() <= 4)
        #expect(try backends(named: name).count <= 4)
        #expect(pool.statistics.open <= 4)
        #expect(pool.statistics.inUse == 0)
        #expect(pool.statistics.waiting == 0)
    }

    @Test func waitTimeoutProducesItsError() async throws {
        // The pool's own timeout leaves room to open the first connection on a loaded machine
        // (opening counts against it); the second borrower waits 200 ms.
        let pool = PostgresPool(try TestDatabase.configuration, maximumConnections: 1, acquireTimeout: .seconds(60))
        try await onThread {
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                do {
                    try pool.withConnection { _ in
                        holding.signal()
                        release.wait()
                    }
                } catch {
                    Issue.record("the first borrower got no connection: \(error)")
                    holding.signal()
                }
            }
            holding.wait()
            let stopwatch = Stopwatch()
            do {
                try pool.withConnection(timeout: .milliseconds(200)) { _ in Issue.record("got a second connection from a pool of one") }
            } catch let error as PostgresError {
                #expect(error.kind == .poolTimeout)
                #expect(error.message.contains("no database connection became free within 0.2 seconds"))
            }
            #expect(stopwatch.elapsedWithStalls >= 0.19 && stopwatch.elapsed < 5)
            #expect(pool.statistics.waiting == 0)
            release.signal()
            // Once returned, the connection serves the next borrower.
            let one = try pool.withConnection { try $0.query("SELECT 1 AS one")[0].decode(Int.self, column: "one") }
            #expect(one == 1)
        }
    }

    @Test func aWaiterIsServedWhenAConnectionComesBack() async throws {
        let pool = PostgresPool(try TestDatabase.configuration, maximumConnections: 1, acquireTimeout: .seconds(10))
        try await onThread {
            let holding = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                try? pool.withConnection { _ in
                    holding.signal()
                    Thread.sleep(forTimeInterval: 0.2)
                }
            }
            holding.wait()
            let connected = try pool.withConnection { $0.isConnected }
            #expect(connected)
        }
    }

    @Test func terminatedConnectionIsReplacedOnTheNextBorrow() async throws {
        let (configuration, name) = try tagged()
        let pool = PostgresPool(configuration, maximumConnections: 1)
        try await onThread {
            let first = try pool.withConnection { $0.backendPID }
            let admin = try PostgresConnection.connect(TestDatabase.configuration)
            try admin.execute("SELECT pg_terminate_backend(\(first))")
            #expect(try eventually { try !self.backends(named: name).contains(first) })
            let second = try pool.withConnection { connection in
                try connection.query("SELECT pg_backend_pid() AS pid")[0].decode(Int32.self, column: "pid")
            }
            #expect(second != first)
        }
    }

    @Test func poolRecoversWhenEveryConnectionWasKilled() async throws {
        let (configuration, name) = try tagged()
        let pool = PostgresPool(configuration, maximumConnections: 3)
        try await onThread {
            // Open three connections at once, as a busy moment would.
            let group = DispatchGroup()
            let barrier = DispatchSemaphore(value: 0)
            for _ in 0..<3 {
                group.enter()
                Thread.detachNewThread {
                    _ = try? pool.withConnection { _ in barrier.wait() }
                    group.leave()
                }
            }
            #expect(eventually { pool.statistics.inUse == 3 })
            for _ in 0..<3 { barrier.signal() }
            group.wait()
            // What a server restart does to them: every backend gone.
            let admin = try PostgresConnection.connect(TestDatabase.configuration)
            try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \(name)")
            #expect(try eventually { try self.backends(named: name).isEmpty })
            for _ in 0..<5 {
                let one = try pool.withConnection { try $0.query("SELECT 1 AS one")[0].decode(Int.self, column: "one") }
                #expect(one == 1)
            }
        }
    }

    @Test func aConnectionReturnedMidTransactionIsRolledBack() async throws {
        try await TestDatabase.withSchema { configuration in
            let pool = PostgresPool(configuration, maximumConnections: 1)
            try await onThread {
                try pool.withConnection { try $0.execute("CREATE TABLE t (v int)") }
                try pool.withConnection { connection in
                    try connection.execute("BEGIN")
                    try connection.execute("INSERT INTO t VALUES (1)")
                }
                let count = try pool.withConnection { connection in
                    #expect(connection.isIdle)
                    return try connection.query("SELECT count(*) AS n FROM t")[0].decode(Int.self, column: "n")
                }
                #expect(count == 0)
            }
        }
    }

    @Test func closedPoolRefusesBorrowers() async throws {
        let pool = PostgresPool(try TestDatabase.configuration, maximumConnections: 1)
        try await onThread {
            try pool.withConnection { _ in }
            pool.close()
            #expect(pool.statistics.open == 0)
            do {
                try pool.withConnection { _ in }
                Issue.record("a closed pool lent a connection")
            } catch let error as PostgresError {
                #expect(error.kind == .poolClosed)
            }
        }
    }

    @Test func connectFailureReachesTheBorrowerAtOnce() async throws {
        let pool = PostgresPool(PostgresConfiguration("postgresql://kairos@127.0.0.1:1/kairos"), maximumConnections: 2)
        try await onThread {
            for _ in 0..<3 {
                do {
                    try pool.withConnection { _ in }
                } catch let error as PostgresError {
                    #expect(error.kind == .connect(.unreachable))
                }
            }
            #expect(pool.statistics.open == 0)
        }
    }
}
