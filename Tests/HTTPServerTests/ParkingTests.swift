import Foundation
import HTTPServer
import TestSupport
import Testing

/// Parked requests (long polls): held by their connection with no thread, handled again when
/// woken or when their wait is over, dropped when their client leaves, answered when the server drains.
@Suite struct ParkingTests {
    static func park(_ port: Int, tag: String, ms: Int = 10_000) throws -> RawHTTPConnection {
        // Generous: with the whole suite on two cores, a request can wait seconds for a thread.
        let client = try RawHTTPConnection(port: port, timeout: 60)
        try client.send("GET /parked?tag=\(tag)&ms=\(ms) HTTP/1.1\r\nHost: t\r\n\r\n")
        return client
    }

    static func wake(_ tag: String) -> Bool {
        guard let wake = ServerFixture.parkedWakes.get()[tag] else { return false }
        wake()
        return true
    }

    @Test func aWokenRequestIsHandledAgainAndItsRegistrationCancelledOnce() async throws {
        try await ServerFixture.with { _, port in
            let tag = ServerFixture.newTag()
            let client = try Self.park(port, tag: tag)
            #expect(eventually(timeout: 30) { ServerFixture.parkedWakes.get()[tag] != nil })
            #expect(Self.wake(tag))
            // A second wake, late, does nothing.
            #expect(Self.wake(tag))
            #expect(try client.readResponse().text == "resumed")
            #expect(eventually { ServerFixture.parkCancelled.all.filter { $0 == tag }.count == 1 })
            // The connection goes on serving.
            #expect(try client.get("/hello").text == "hello")
        }
    }

    @Test func aRequestWhoseWaitIsOverIsHandledAgain() async throws {
        try await ServerFixture.with { _, port in
            let stopwatch = Stopwatch()
            let client = try Self.park(port, tag: ServerFixture.newTag(), ms: 300)
            #expect(try client.readResponse().text == "resumed")
            #expect(stopwatch.elapsed >= 0.25)
        }
    }

    @Test func aClientThatLeavesCancelsItsRegistration() async throws {
        try await ServerFixture.with { server, port in
            let tag = ServerFixture.newTag()
            let client = try Self.park(port, tag: tag)
            #expect(eventually(timeout: 30) { ServerFixture.parkedWakes.get()[tag] != nil })
            client.closeNow()
            #expect(ServerFixture.parkCancelled.wait(timeout: 30) { $0 == tag } != nil)
            #expect(eventually { server.openConnections == 0 })
        }
    }

    /// A client that sends its next request behind a parked one gets the parked one's fallback
    /// at once, then the next answer: the next request is not held for the wait.
    @Test func aPipelinedRequestEndsTheWaitWithTheFallback() async throws {
        try await ServerFixture.with { _, port in
            let tag = ServerFixture.newTag()
            let client = try Self.park(port, tag: tag, ms: 60_000)
            #expect(eventually(timeout: 30) { ServerFixture.parkedWakes.get()[tag] != nil })
            let stopwatch = Stopwatch()
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "fallback")
            #expect(try client.readResponse().text == "hello")
            // Not the wait's minute (the bound is loose for a loaded host).
            #expect(stopwatch.elapsed < 20)
            #expect(ServerFixture.parkCancelled.wait(timeout: 30) { $0 == tag } != nil)
        }
    }

    @Test func aDrainingServerAnswersParkedRequestsWithTheirFallback() async throws {
        let server = try ServerFixture.start()
        let tag = ServerFixture.newTag()
        let client = try Self.park(server.port!, tag: tag, ms: 60_000)
        #expect(try await onThread { eventually(timeout: 30) { ServerFixture.parkedWakes.get()[tag] != nil } })
        let stopwatch = Stopwatch()
        let shutdown = Thread { server.shutdown(gracePeriod: .seconds(10)) }
        shutdown.start()
        let response = try await onThread { try client.readResponse() }
        #expect(response.text == "fallback")
        #expect(response.header("Connection") == "close")
        // At once, not at the end of the grace period (10 s) or of the wait (a minute); the
        // bound is loose for a loaded host.
        #expect(stopwatch.elapsed < 8)
    }

    /// Two worker threads and two hundred parked requests: other requests are still answered,
    /// since a parked request holds no thread; each parked one is answered once woken.
    @Test func parkedRequestsHoldNoWorkerThread() async throws {
        try await ServerFixture.with(workerThreads: 2) { _, port in try ManyDescriptors.exclusively {
            let tags = (0..<200).map { _ in ServerFixture.newTag() }
            let clients = try tags.map { try Self.park(port, tag: $0) }
            #expect(eventually(timeout: 30) { Set(ServerFixture.parkedWakes.get().keys).isSuperset(of: tags) })
            let stopwatch = Stopwatch()
            let other = try RawHTTPConnection(port: port, timeout: 30)
            #expect(try other.get("/slow?ms=1").text == "slept 1")
            #expect(stopwatch.elapsed < 5, "answered after \(stopwatch.elapsed) s")
            for tag in tags { #expect(Self.wake(tag)) }
            #expect(try clients.allSatisfy { try $0.readResponse().text == "resumed" })
        } }
    }

    /// Middleware sees the parked pass go by, but the request is answered, and logged, once.
    @Test func middlewareSeesOneAnswer() async throws {
        let answers = Arrivals<String>()
        let recording: Middleware = { request, next in
            let response = next(request)
            if !response.isParked { answers.append(String(decoding: response.body, as: UTF8.self)) }
            return response
        }
        try await ServerFixture.with(middleware: [recording]) { _, port in
            let tag = ServerFixture.newTag()
            let client = try Self.park(port, tag: tag)
            #expect(eventually(timeout: 30) { ServerFixture.parkedWakes.get()[tag] != nil })
            #expect(answers.all.isEmpty)
            #expect(Self.wake(tag))
            #expect(try client.readResponse().text == "resumed")
            #expect(answers.all == ["resumed"])
        }
    }
}
