import Foundation
import HTTPServer
import TestSupport
import Testing

/// Each limit at the limit and one past it, over a real socket.
@Suite struct LimitsOverSocketTests {
    static let limits: HTTPLimits = {
        var limits = HTTPLimits()
        limits.maximumRequestLineBytes = 256
        limits.maximumHeaderBytes = 1024
        limits.maximumHeaderCount = 10
        limits.maximumBodyBytes = 64 * 1024
        limits.headerTimeout = .milliseconds(400)
        limits.bodyTimeout = .milliseconds(400)
        limits.idleTimeout = .milliseconds(400)
        limits.maximumConnections = 3
        return limits
    }()

    @Test func requestLineAtTheLimitAndOnePast() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            // "GET /hello?pad=... HTTP/1.1" of exactly 256 bytes, then 257.
            let fixed = "GET /hello?pad= HTTP/1.1".utf8.count
            let atLimit = "GET /hello?pad=\(String(repeating: "x", count: 256 - fixed)) HTTP/1.1\r\nHost: t\r\n\r\n"
            let connection = try RawHTTPConnection(port: port)
            try connection.send(atLimit)
            #expect(try connection.readResponse().status == 200)
            let past = "GET /hello?pad=\(String(repeating: "x", count: 257 - fixed)) HTTP/1.1\r\nHost: t\r\n\r\n"
            try connection.send(past)
            #expect(try connection.readResponse().status == 414)
            #expect(connection.closedByServer())
        }
    }

    @Test func headerBlockAtTheLimitAndOnePast() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            func request(headBytes: Int) -> String {
                let start = "GET /hello HTTP/1.1\r\nHost: t\r\nX-Pad: "
                return start + String(repeating: "p", count: headBytes - start.utf8.count - 2) + "\r\n\r\n"
            }
            let connection = try RawHTTPConnection(port: port)
            try connection.send(request(headBytes: 1024))
            #expect(try connection.readResponse().status == 200)
            try connection.send(request(headBytes: 1025))
            #expect(try connection.readResponse().status == 431)
        }
    }

    @Test func headerCountAtTheLimitAndOnePast() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            let nine = (1...9).map { "X-\($0): v\r\n" }.joined()
            let connection = try RawHTTPConnection(port: port)
            try connection.send("GET /hello HTTP/1.1\r\nHost: t\r\n\(nine)\r\n")
            #expect(try connection.readResponse().status == 200)
            try connection.send("GET /hello HTTP/1.1\r\nHost: t\r\n\(nine)X-10: v\r\n\r\n")
            #expect(try connection.readResponse().status == 431)
        }
    }

    @Test func bodyAtTheLimitAndOnePastRefusedBeforeItIsSent() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            let body = [UInt8](repeating: 0x61, count: 64 * 1024)
            let connection = try RawHTTPConnection(port: port)
            try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n")
            try connection.send(body)
            #expect(try connection.readResponse().body.count == body.count)
            // One byte more, declared: the answer comes on the head alone.
            try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count + 1)\r\n\r\n")
            let refused = try connection.readResponse()
            #expect(refused.status == 413)
            #expect(refused.text.contains("65537 bytes is larger than the limit of 65536 bytes"))
        }
    }

    @Test func unsupportedTransferEncodingIs501AndSmugglingIs400() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            let gzip = try RawHTTPConnection(port: port)
            try gzip.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n")
            #expect(try gzip.readResponse().status == 501)
            let both = try RawHTTPConnection(port: port)
            try both.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect(try both.readResponse().status == 400)
            #expect(both.closedByServer())
        }
    }

    @Test func aClientTricklingItsHeadIsCutOffWith408() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            let connection = try RawHTTPConnection(port: port)
            let stopwatch = Stopwatch()
            // A byte every 100 ms keeps the connection busy but never finishes the head.
            var response: RawHTTPResponse?
            for byte in "GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ".utf8 {
                try? connection.send([byte])
                Thread.sleep(forTimeInterval: 0.1)
                if stopwatch.elapsed > 0.6 { break }
            }
            response = try connection.readResponse()
            #expect(response?.status == 408)
            #expect(stopwatch.elapsed < 2, "cut off after \(stopwatch.elapsed) s (\(stopwatch.elapsedWithStalls) s with stalls)")
            #expect(connection.closedByServer())
        }
    }

    @Test func aClientTricklingItsBodyIsCutOffWith408() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
            for _ in 0..<6 {
                try? connection.send("x")
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(try connection.readResponse().status == 408)
        }
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        try await ServerFixture.with(limits: Self.limits) { server, port in
            let connection = try RawHTTPConnection(port: port)
            #expect(try connection.get("/hello").status == 200)
            let stopwatch = Stopwatch()
            #expect(connection.closedByServer(within: 3))
            #expect(stopwatch.elapsedWithStalls > 0.3 && stopwatch.elapsed < 2, "closed after \(stopwatch.elapsed) s")
            #expect(eventually(timeout: 2) { server.openConnections == 0 })
        }
    }

    @Test func connectionsAtTheLimitAreServedAndOnePastGets503() async throws {
        var limits = Self.limits
        limits.idleTimeout = .seconds(30)
        try await ServerFixture.with(limits: limits) { server, port in
            let open = try (0..<3).map { _ in try RawHTTPConnection(port: port) }
            for connection in open { #expect(try connection.get("/hello").status == 200) }
            let refused = try RawHTTPConnection(port: port)
            let response = try refused.readResponse()
            #expect(response.status == 503)
            #expect(response.header("Retry-After") == "1")
            #expect(refused.closedByServer())
            // Room again once one closes.
            _ = try open[0].get("/hello", headers: "Connection: close\r\n")
            #expect(eventually { server.openConnections == 2 })
            #expect(try RawHTTPConnection(port: port).get("/hello").status == 200)
        }
    }

    /// A connection that sends nothing is held to the header timeout from its accept, not to the
    /// (longer) idle timeout: silent connections cannot keep slots.
    @Test func aSilentConnectionGets408AtTheHeaderTimeout() async throws {
        var limits = Self.limits
        limits.idleTimeout = .seconds(30)
        try await ServerFixture.with(limits: limits) { server, port in
            let silent = try RawHTTPConnection(port: port)
            let stopwatch = Stopwatch()
            let response = try silent.readResponse()
            #expect(response.status == 408)
            #expect(silent.closedByServer())
            #expect(stopwatch.elapsedWithStalls > 0.3 && stopwatch.elapsed < 5, "answered after \(stopwatch.elapsed) s")
            #expect(eventually(timeout: 5) { server.openConnections == 0 })
        }
    }

    /// One address may hold only so many connections; the others are served meanwhile, and
    /// its own count goes down as its connections close.
    @Test func oneAddressAtItsLimitGets503AndOthersAreServed() async throws {
        var limits = Self.limits
        limits.idleTimeout = .seconds(30)
        limits.headerTimeout = .seconds(30)
        limits.maximumConnections = 10
        limits.maximumConnectionsPerClient = 3
        try await ServerFixture.with(limits: limits) { server, port in
            let held = try (0..<3).map { _ in try RawHTTPConnection(port: port, source: "127.0.0.2") }
            #expect(eventually { server.openConnections == 3 })
            let refused = try RawHTTPConnection(port: port, source: "127.0.0.2")
            let response = try refused.readResponse()
            #expect(response.status == 503)
            #expect(response.text == #"{"error":"too many open connections from your address; close some and try again"}"#)
            #expect(try RawHTTPConnection(port: port, source: "127.0.0.1").get("/hello").status == 200)
            _ = try held[0].get("/hello", headers: "Connection: close\r\n")
            #expect(eventually { server.openConnections == 2 })
            #expect(try RawHTTPConnection(port: port, source: "127.0.0.2").get("/hello").status == 200)
            withExtendedLifetime(held) {}
        }
    }

    /// What the parser refuses, and a head that never arrives, get a request id as every answer
    /// does, so a client's report can be found in the log.
    @Test func theParsersOwnAnswersCarryARequestID() async throws {
        try await ServerFixture.with(limits: Self.limits) { _, port in
            let tooLong = try RawHTTPConnection(port: port)
            try tooLong.send("GET /" + String(repeating: "a", count: 300) + " HTTP/1.1\r\nHost: t\r\n\r\n")
            let refused = try tooLong.readResponse()
            #expect(refused.status == 414)
            #expect(refused.header("X-Request-Id")?.isEmpty == false)
            let silent = try RawHTTPConnection(port: port)
            let timedOut = try silent.readResponse()
            #expect(timedOut.status == 408)
            #expect(timedOut.header("X-Request-Id")?.isEmpty == false)
            #expect(timedOut.header("X-Request-Id") != refused.header("X-Request-Id"))
        }
    }
}
