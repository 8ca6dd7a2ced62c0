import Dispatch
import Foundation
import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// Kairos as an attacker would treat it, over real sockets.
@Suite struct HostileClientTests {
    /// 5,000 connections from one address that send nothing take at most its share of the
    /// slots: readiness from another address answers at once.
    @Test func fiveThousandSilentConnectionsFromOneAddressStarveNoOtherAddress() async throws {
        try await APIFixture.with { api throws in
            // Probed before, as an orchestrator does, so the check's own connection is open.
            #expect(try api.call("GET", "/api/v1/readiness").status == 200)
            try ManyDescriptors.exclusively {
            var silent: [RawHTTPConnection] = []
            silent.reserveCapacity(5000)
            for _ in 0..<5000 {
                silent.append(try RawHTTPConnection(port: api.port, source: "127.0.0.2", timeout: 5))
            }
            let stopwatch = Stopwatch()
            let ready = try RawHTTPConnection(port: api.port, source: "127.0.0.1").get("/api/v1/readiness")
            #expect(ready.status == 200, "\(ready.text)")
            #expect(stopwatch.elapsed < 1, "readiness took \(stopwatch.elapsed) s")
            withExtendedLifetime(silent) {}
            }
        }
    }

    /// Runs `kairos serve` with an 8 MiB expansion cap over a schema that `setup` fills, sends
    /// `overCap` to the expansion endpoint and checks it is a 400 for the cap with the process's
    /// peak memory grown by less than five times the cap; then sends `underCap`, on the same
    /// connection, and returns its reply.
    static func expansionOverTheCap(setup: SQL, overCap: String, underCap: String) async throws -> RawHTTPResponse {
        try await TestDatabase.withSchema { configuration in
            try await onThread { try PostgresConnection.connect(configuration).executeScript(setup) }
            let environment = [
                "DATABASE_URL": try TestDatabase.connectionString(for: configuration), "KAIROS_FILTER_MAX_BYTES": "8MiB",
                "KAIROS_DEFAULT_JOBS_DIR": "/nonexistent/kairos-cap",
            ]
            return try await onThread {
                let kairos = try KairosProcess(["serve", "--port", "0"], environment: environment)
                defer { _ = kairos.terminate() }
                #expect(kairos.waitForLine("ready") != nil, "not ready: \(kairos.log)")
                let port = try #require(kairos.waitForPort())
                let before = try #require(kairos.peakResidentBytes)
                let connection = try RawHTTPConnection(port: port, timeout: 60)
                let reply = try connection.request("POST", "/api/v1/debug-expand-filter", body: overCap)
                #expect(reply.status == 400, "\(reply.text.prefix(300))")
                #expect(reply.text.contains("more than 8 MiB of JSON"), "\(reply.text.prefix(300))")
                let after = try #require(kairos.peakResidentBytes)
                #expect(after - before < 5 * 8 << 20, "peak memory grew from \(before >> 20) MiB to \(after >> 20) MiB")
                return try connection.request("POST", "/api/v1/debug-expand-filter", body: underCap)
            }
        }
    }

    /// Wide rows: 10,000 rows of 10 KB are 100 MB of text before a single key is merged. They
    /// are counted as they arrive, one at a time, so the 8 MiB cap ends the expansion without
    /// the rows ever being held whole, by libpq or as JSON; the next one gets a sound connection.
    @Test func wideRowsAreCountedAsTheyArriveNotHeldWhole() async throws {
        let narrow = try await Self.expansionOverTheCap(
            setup: "CREATE TABLE wide (id integer PRIMARY KEY, pad text); INSERT INTO wide SELECT n, repeat('w', 10000) FROM generate_series(1, 10000) AS n",
            overCap: #"{"$filter": {"table": "wide"}}"#, underCap: #"{"$filter": {"table": "wide", "select": "id", "limit": 3}}"#)
        #expect(narrow.status == 200, "\(narrow.text.prefix(300))")
    }

    /// Output amplification: a 20 KB key beside a filter matching 20,000 rows would answer
    /// 400 MB. Capped at 8 MiB, it is a 400 as soon as the cap is passed, and the process's
    /// peak memory grows by a small multiple of the cap, not by the 400 MB.
    @Test func anExpansionIsCappedInBytesAsRowsAreMergedNotAfter() async throws {
        let pad = String(repeating: "x", count: 20_000)
        let answered = try await Self.expansionOverTheCap(
            setup: "CREATE TABLE pads (id integer PRIMARY KEY); INSERT INTO pads SELECT generate_series(1, 20000)",
            overCap: JSONValue.object(["$filter": ["table": "pads"], "pad": .string(pad)]).serialized(),
            underCap: JSONValue.object(["$filter": ["table": "pads", "limit": 100], "pad": .string(pad)]).serialized())
        // Under the cap, the same expansion answers.
        #expect(answered.status == 200)
        #expect(try JSONValue(parsing: answered.body)["matched"]?.arrayValue?.count == 100)
    }

    /// Pool starvation: with a table locked, expansions over it take at most their share of the
    /// connections (the rest get a quick 503), and readiness and the jobs API answer at once.
    @Test func lockedExpansionsTakeOnlyTheirShareOfConnections() async throws {
        try await APIFixture.with { api throws in
            try api.pool.withConnection { try FilterFixture.create(on: $0) }
            #expect(try api.call("GET", "/api/v1/readiness").status == 200)  // as probed before
            let locker = try PostgresConnection.connect(api.pool.configuration)
            try locker.execute("BEGIN")
            try locker.execute("LOCK TABLE ecosystems IN ACCESS EXCLUSIVE MODE")
            let statuses = LockedBox<[Int]>([])
            let group = DispatchGroup()
            for _ in 0..<20 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    let reply = try? api.call("POST", "/api/v1/debug-expand-filter", body: #"{"$filter": {"table": "ecosystems"}}"#)
                    statuses.update { $0.append(reply?.status ?? 0) }
                }
            }
            // Those beyond the share are turned away within a second or two.
            #expect(eventually(timeout: 30) { statuses.get().count == 16 }, "\(statuses.get())")
            #expect(statuses.get().allSatisfy { $0 == 503 })
            // Manual runs, which may expand filters too, share the same bound.
            #expect(try api.call("POST", "/api/v1/jobs/nobody/run").status == 503)
            for (path, status) in [("/api/v1/readiness", 200), ("/api/v1/jobs/x", 404), ("/api/v1/jobs", 200)] {
                let stopwatch = Stopwatch()
                #expect(try api.call("GET", path).status == status)
                // At once, not after the expansions' 30 s: a bound a loaded two-core machine keeps.
                #expect(stopwatch.elapsed < 3, "\(path) answered after \(stopwatch.elapsed) s")
            }
            try locker.execute("ROLLBACK")
            group.wait()
            #expect(statuses.get().filter { $0 == 200 }.count == 4)
        }
    }

    /// A client that gives up on an expansion stops its query (its connection is closed) at once, instead of the
    /// query holding its connection until the 30 s filter timeout.
    @Test func aClientThatLeavesCancelsItsRunningQuery() async throws {
        try await APIFixture.with { api throws in
            try api.pool.withConnection { try FilterFixture.create(on: $0) }
            let locker = try PostgresConnection.connect(api.pool.configuration)
            try locker.execute("BEGIN")
            try locker.execute("LOCK TABLE ecosystems IN ACCESS EXCLUSIVE MODE")
            defer { _ = try? locker.execute("ROLLBACK") }
            // Blocked by this test's lock (other tests lock tables of the same name in their
            // schemas), counted from a connection outside any transaction: a transaction keeps
            // one snapshot of pg_stat_activity.
            let waiting: SQL = """
                SELECT count(*)::bigint AS n FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND query LIKE '%ecosystems%' AND \(locker.backendPID) = ANY(pg_blocking_pids(pid))
                """
            let watcher = try PostgresConnection.connect(api.pool.configuration)
            let count = { try watcher.query(waiting)[0].decode(Int.self, column: "n") }
            let client = try RawHTTPConnection(port: api.port)
            let body = #"{"$filter": {"table": "ecosystems"}}"#
            try client.send("POST /api/v1/debug-expand-filter HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(eventually(timeout: 30) { (try? count()) == 1 }, "the expansion never reached the lock")
            let stopwatch = Stopwatch()
            client.closeNow()
            #expect(eventually(timeout: 20) { (try? count()) == 0 }, "the query still waits after its client left")
            #expect(stopwatch.elapsed < 5, "cancelled after \(stopwatch.elapsed) s")
        }
    }
}
