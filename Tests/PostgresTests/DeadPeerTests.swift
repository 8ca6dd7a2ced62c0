import Foundation
import Glibc
import Postgres
import TestSupport
import Testing

/// A server that stops answering (a partition drops packets and resets nothing) costs a known,
/// short time: every statement has a deadline, every connection attempt too, and a pool counts
/// opening against its acquire timeout, opens few at once, and fails fast after a failed open.
@Suite struct DeadPeerTests {
    @Test func aStatementTheServerNeverAnswersFailsAtItsDeadlineAndClosesTheConnection() async throws {
        var settings = try TestDatabase.configuration
        settings.statementTimeout = .milliseconds(500)
        let configuration = settings
        try await onThread {
            let connection = try PostgresConnection.connect(configuration)
            // A stopped backend is a server that has gone silent: its kernel still acknowledges
            // what is sent, but no answer, not even the statement timeout's error, ever comes.
            let backend = connection.backendPID
            // Only a server on this machine, whose processes this test may signal (the test
            // command's own cluster), can be stopped; elsewhere there is nothing to show.
            let command = (try? String(contentsOfFile: "/proc/\(backend)/comm", encoding: .utf8)) ?? ""
            guard command.hasPrefix("postgres") else {
                print("skipped: backend \(backend) is not a local PostgreSQL process")
                return
            }
            #expect(kill(backend, SIGSTOP) == 0, "cannot stop backend \(backend): \(String(cString: strerror(errno)))")
            defer { kill(backend, SIGCONT) }
            let stopwatch = Stopwatch()
            do {
                try connection.execute("SELECT 1")
                Issue.record("a stopped server answered")
            } catch let error as PostgresError {
                #expect(error.kind == .connectionLost, "\(error)")
                #expect(error.message.contains("did not answer within 1 s"), "\(error.message)")
            }
            // The statement's timeout and the margin (0.5 s), give or take a loaded machine's scheduling.
            #expect(stopwatch.elapsedWithStalls >= 0.99, "gave up after \(stopwatch.elapsedWithStalls) s")
            #expect(stopwatch.elapsed < 5, "waited \(stopwatch.elapsed) s")
            #expect(!connection.isConnected)
        }
    }

    @Test func connectingToAServerThatNeverAnswersStopsAtTheConnectTimeout() async throws {
        let server = try SilentServer()
        try await onThread {
            let stopwatch = Stopwatch()
            do {
                _ = try PostgresConnection.connect(PostgresConfiguration(server.connectionString("connect_timeout=2")))
                Issue.record("connected to a silent server")
            } catch let error as PostgresError {
                #expect(error.kind == .connect(.unreachable), "\(error)")
                #expect(error.message.contains("timeout expired"), "\(error.message)")
            }
            #expect(stopwatch.elapsedWithStalls >= 1.9 && stopwatch.elapsed < 10, "\(stopwatch.elapsed) s")
            #expect(server.connectionCount == 1)
        }
    }

    @Test func aPoolCountsOpeningAgainstItsTimeoutAndThenFailsFast() async throws {
        let server = try SilentServer()
        // The connect timeout alone would allow 20 s; the pool's 300 ms decide. Failing fast
        // lasts 2 s here rather than 0.5, so that a loaded machine's pauses cannot outlast it.
        let pool = PostgresPool(
            PostgresConfiguration(server.connectionString("connect_timeout=20")), maximumConnections: 4,
            acquireTimeout: .milliseconds(300), failFastInterval: .seconds(2))
        try await onThread {
            let first = Stopwatch()
            #expect(throws: PostgresError.self) { try pool.withConnection { _ in } }
            #expect(first.elapsedWithStalls >= 0.29 && first.elapsed < 5, "\(first.elapsed) s")
            // For the next moment a borrower learns of the failure at once, without an attempt.
            let second = Stopwatch()
            do {
                try pool.withConnection { _ in }
                Issue.record("a connection to a silent server")
            } catch let error as PostgresError {
                #expect(error.kind == .connect(.unreachable), "\(error)")
                #expect(error.message.contains("this call did not try again"), "\(error.message)")
            }
            #expect(second.elapsed < 0.25, "\(second.elapsed) s")
            #expect(server.connectionCount == 1)
            // Once that time has passed, the pool tries the server again.
            Thread.sleep(forTimeInterval: 2.1)
            #expect(throws: PostgresError.self) { try pool.withConnection { _ in } }
            #expect(server.connectionCount == 2)
            #expect(pool.statistics.open == 0 && pool.statistics.waiting == 0, "\(pool.statistics)")
        }
    }

    @Test func aPoolOpensAtMostTwoConnectionsAtOnce() async throws {
        let server = try SilentServer()
        // Failing fast for a minute: a borrower that starts late, after the first attempts
        // failed, learns of them instead of making a third attempt.
        let pool = PostgresPool(
            PostgresConfiguration(server.connectionString("connect_timeout=20")), maximumConnections: 8, acquireTimeout: .seconds(1),
            failFastInterval: .seconds(60))
        try await onThread {
            // Eight borrowers at once against a server that never answers: two attempts hang,
            // the others wait behind them and, when those fail, learn why without trying.
            let failures = LockedBox(0)
            let group = DispatchGroup()
            let stopwatch = Stopwatch()
            for _ in 0..<8 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    if (try? pool.withConnection { _ in }) == nil { failures.update { $0 += 1 } }
                }
            }
            #expect(group.wait(timeout: .now() + 30) == .success)
            #expect(failures.get() == 8)
            #expect(server.connectionCount <= 2, "\(server.connectionCount) attempts at once")
            #expect(stopwatch.elapsed < 10, "\(stopwatch.elapsed) s")
            #expect(pool.statistics.open == 0 && pool.statistics.waiting == 0, "\(pool.statistics)")
        }
    }
}
