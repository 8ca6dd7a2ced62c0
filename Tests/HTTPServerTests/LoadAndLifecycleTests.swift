import Foundation
import HTTPServer
import TestSupport
import Testing

@Suite(.serialized) struct LoadAndLifecycleTests {
    @Test func aThousandConcurrentKeepAliveClientsMakeTwentyRequestsEach() async throws {
        try await ServerFixture.with { server, port in
            // Every connection is open before any request, so all thousand are concurrent; from
            // eight loopback addresses, as many clients would be (one address may hold 256).
            let connections = try (0..<1000).map { index in
                try RawHTTPConnection(port: port, source: "127.0.0.\(2 + index % 8)", timeout: 30)
            }
            #expect(eventually { server.openConnections == 1000 })
            let answered = LockedBox(0)
            let group = DispatchGroup()
            let threads = 50
            for thread in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    let mine = stride(from: thread, to: connections.count, by: threads).map { connections[$0] }
                    for round in 0..<20 {
                        // One request on each connection, then every response: the server has
                        // twenty requests of this thread under way at once.
                        for connection in mine { try? connection.send("GET /params/\(round)/tail HTTP/1.1\r\nHost: t\r\n\r\n") }
                        for connection in mine {
                            if let response = try? connection.readResponse(), response.text == "\(round)" {
                                answered.update { $0 += 1 }
                            }
                        }
                    }
                }
            }
            group.wait()
            #expect(answered.get() == 20_000)
        }
    }

    @Test func slowClientsDoNotDelayANormalOne() async throws {
        var limits = HTTPLimits()
        limits.headerTimeout = .seconds(30)
        try await ServerFixture.with(limits: limits) { server, port in
            // Two hundred clients that each sent part of a head and then went quiet.
            let slow = try (0..<200).map { index -> RawHTTPConnection in
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow-\(index): ")
                return connection
            }
            #expect(eventually { server.openConnections == 200 })
            let normal = try RawHTTPConnection(port: port)
            var times: [Double] = []
            for _ in 0..<50 {
                let stopwatch = Stopwatch()
                #expect(try normal.get("/hello").status == 200)
                times.append(stopwatch.elapsed)
            }
            times.sort()
            // Held up behind the slow ones, a request would wait out their 30 s header timeout:
            // the slowest answers far sooner, and the typical one at once. (Not tighter: the
            // other suites run beside this one on two cores.)
            #expect(times[49] < 5, "slowest of 50 requests took \(times[49]) s")
            #expect(times[25] < 0.25, "the median of 50 requests took \(times[25]) s")
            // The slow ones are still waiting, not dropped.
            #expect(server.openConnections == 201)
            withExtendedLifetime(slow) {}
        }
    }

    @Test func aHandlerWaitingOnTheDatabaseStallsNoOtherConnection() async throws {
        try await ServerFixture.with(workerThreads: 2) { _, port in
            // Both workers busy for a second...
            let busy = try (0..<2).map { _ in try RawHTTPConnection(port: port) }
            let tags = (0..<2).map { _ in ServerFixture.newTag() }
            for (connection, tag) in zip(busy, tags) { try connection.send("GET /slow?ms=1000&tag=\(tag) HTTP/1.1\r\nHost: t\r\n\r\n") }
            #expect(ServerFixture.reachedSlowHandler.waitForAll(timeout: 30) { Set(tags).isSubset(of: $0) })
            // ...yet an inline route answers at once, and other connections still connect and parse.
            let stopwatch = Stopwatch()
            #expect(try RawHTTPConnection(port: port).get("/hello").status == 200)
            #expect(try RawHTTPConnection(port: port).get("/nope").status == 404)
            #expect(stopwatch.elapsed < 0.5)
            for connection in busy { #expect(try connection.readResponse().text == "slept 1000") }
        }
    }

    @Test func clientsDisconnectingMidBodyLeaveNoLeak() async throws {
        try await ServerFixture.with { server, port in
            let held = try RawHTTPConnection(port: port)
            #expect(try held.get("/hello").status == 200)
            #expect(serverSideDescriptorCount(port: port) == 1)  // the count sees an open one
            held.closeNow()
            #expect(eventually { server.openConnections == 0 && serverSideDescriptorCount(port: port) == 0 })
            for _ in 0..<100 {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial body")
                // Dropped here, mid-body.
            }
            for _ in 0..<50 {
                let connection = try RawHTTPConnection(port: port)
                try connection.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Half: ")
            }
            #expect(eventually { server.openConnections == 0 }, "still open: \(server.openConnections)")
            #expect(eventually { serverSideDescriptorCount(port: port) == 0 }, "descriptors left: \(serverSideDescriptorCount(port: port))")
        }
    }

    @Test func shutdownDrainsAnInFlightRequestThenReturns() async throws {
        let server = try ServerFixture.start()
        let port = server.port!
        try await onThread {
            let idle = try RawHTTPConnection(port: port)
            #expect(try idle.get("/hello").status == 200)
            let inFlight = try RawHTTPConnection(port: port)
            let tag = ServerFixture.newTag()
            try inFlight.send("GET /slow?ms=700&tag=\(tag) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(ServerFixture.reachedSlowHandler.wait(timeout: 30) { $0 == tag } != nil)

            let stopped = DispatchSemaphore(value: 0)
            let stopwatch = Stopwatch()
            Thread.detachNewThread {
                server.shutdown(gracePeriod: .seconds(5))
                stopped.signal()
            }
            // Idle connections close at once; new ones are refused.
            #expect(idle.closedByServer(within: 2))
            // The listening socket closes in its source's cancel handler, which no signal marks.
            #expect(eventually(timeout: 5) { (try? RawHTTPConnection(port: port).get("/hello")) == nil })
            // The request under way still gets its answer, marked as the last.
            let response = try inFlight.readResponse()
            #expect(response.text == "slept 700")
            #expect(response.header("Connection") == "close")
            stopped.wait()
            #expect(stopwatch.elapsedWithStalls >= 0.5 && stopwatch.elapsed < 3, "shutdown took \(stopwatch.elapsed) s")
            #expect(server.openConnections == 0)
        }
    }

    @Test func shutdownClosesWhatOutlastsTheGracePeriod() async throws {
        let server = try ServerFixture.start()
        let port = server.port!
        try await onThread {
            let stuck = try RawHTTPConnection(port: port)
            let tag = ServerFixture.newTag()
            try stuck.send("GET /slow?ms=3000&tag=\(tag) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(ServerFixture.reachedSlowHandler.wait(timeout: 30) { $0 == tag } != nil)
            let stopwatch = Stopwatch()
            server.shutdown(gracePeriod: .milliseconds(300))
            #expect(stopwatch.elapsed < 2)
            // Told, not left in silence.
            let response = try stuck.readResponse()
            #expect(response.status == 503)
            #expect(response.text.contains("stopped before this request finished"))
            #expect(stuck.closedByServer(within: 2))
        }
    }

    @Test func curlSendsA100KiBFileWithExpectContinue() async throws {
        try await ServerFixture.with { _, port in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-upload-\(UUID().uuidString)")
            let content = (0..<(100 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try Data(content).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-download-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: output) }
            let trace = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-trace-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: trace) }
            // curl 7.88 asks for 100-continue by itself only above 1 MiB, so the header is explicit.
            // --expect100-timeout 30: if the server did not answer 100 Continue, curl would wait
            // 30 s before sending anyway, and the timing check below would fail.
            let stopwatch = Stopwatch()
            let curl = try ChildProcess("/usr/bin/curl", [
                "-sS", "-v", "--stderr", trace.path, "--expect100-timeout", "30", "-o", output.path, "-w", "%{http_code}",
                "--data-binary", "@\(file.path)", "-H", "Content-Type: application/octet-stream", "-H", "Expect: 100-continue",
                "http://127.0.0.1:\(port)/echo",
            ])
            #expect(curl.waitForExit(timeout: 60) == 0)
            #expect(curl.output == "200")
            let verbose = try String(contentsOf: trace, encoding: .utf8)
            #expect(verbose.contains("Expect: 100-continue"))
            #expect(verbose.contains("HTTP/1.1 100 Continue"))
            #expect(stopwatch.elapsed < 10)
            #expect(try Data(contentsOf: output) == Data(content))
        }
    }

    /// A client that hangs up while its request is handled cancels it (a handler can stop its
    /// query); one that hangs up while its request waits for a worker never has it run.
    @Test func aClientThatHangsUpCancelsItsRequest() async throws {
        try await ServerFixture.with(workerThreads: 1) { _, port in
            let tag = ServerFixture.newTag()
            let leaving = try RawHTTPConnection(port: port)
            try leaving.send("GET /until-cancelled?tag=\(tag) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(ServerFixture.reachedSlowHandler.wait(timeout: 30) { $0 == tag } != nil)
            let stopwatch = Stopwatch()
            leaving.closeNow()
            #expect(ServerFixture.cancelledRequests.wait(timeout: 30) { $0 == tag } != nil)
            #expect(stopwatch.elapsed < 5, "cancelled after \(stopwatch.elapsed) s")

            // The one worker busy for a second; a request queued behind it whose client leaves
            // is skipped, and the next one is served.
            let busy = try RawHTTPConnection(port: port)
            let busyTag = ServerFixture.newTag()
            try busy.send("GET /slow?ms=1000&tag=\(busyTag) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(ServerFixture.reachedSlowHandler.wait(timeout: 30) { $0 == busyTag } != nil)
            let queuedTag = ServerFixture.newTag()
            let queued = try RawHTTPConnection(port: port)
            try queued.send("GET /slow?ms=10&tag=\(queuedTag) HTTP/1.1\r\nHost: t\r\n\r\n")
            queued.closeNow()
            let laterTag = ServerFixture.newTag()
            let later = try RawHTTPConnection(port: port)
            try later.send("GET /slow?ms=10&tag=\(laterTag) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try busy.readResponse().status == 200)
            #expect(try later.readResponse().status == 200)
            #expect(!ServerFixture.reachedSlowHandler.all.contains(queuedTag), "the abandoned request ran")
        }
    }
}
