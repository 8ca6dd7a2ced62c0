import Foundation
import HTTPServer
import JSON
import TestSupport
import Testing

@Suite struct HTTPSemanticsTests {
    @Test func answersWithContentLengthDateAndServer() async throws {
        try await ServerFixture.with { _, port in
            let response = try RawHTTPConnection(port: port).get("/hello")
            #expect(response.status == 200)
            #expect(response.text == "hello")
            #expect(response.header("Content-Length") == "5")
            #expect(response.header("Server") == "kairos")
            let date = try #require(response.header("Date"))
            #expect(date.hasSuffix(" GMT") && date.count == 29, "\(date)")
            #expect(response.header("X-Request-Id")?.isEmpty == false)
        }
    }

    @Test func keepAliveIsTheDefaultAndConnectionCloseCloses() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            for _ in 0..<3 { #expect(try connection.get("/hello").status == 200) }
            let last = try connection.get("/hello", headers: "Connection: close\r\n")
            #expect(last.header("Connection") == "close")
            #expect(connection.closedByServer())
        }
    }

    @Test func http10ClosesUnlessAskedToKeepAlive() async throws {
        try await ServerFixture.with { _, port in
            let plain = try RawHTTPConnection(port: port)
            try plain.send("GET /hello HTTP/1.0\r\n\r\n")
            let first = try plain.readResponse()
            #expect(first.status == 200)
            #expect(first.header("Connection") == "close")
            #expect(plain.closedByServer())

            let kept = try RawHTTPConnection(port: port)
            try kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().header("Connection") == "keep-alive")
            try kept.send("GET /inspect HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let second = try kept.readResponse()
            #expect(try JSONValue(parsing: second.body)["version"] == "HTTP/1.0")
        }
    }

    @Test func headSendsTheLengthButNoBody() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try connection.readResponse(isHead: true)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "5")
            // The next response starts right away: no body bytes came between.
            #expect(try connection.get("/hello").text == "hello")
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send(
                "GET /slow?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsecond"
                    + "GET /params/third/tail HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try connection.readResponse().text == "slept 100")
            #expect(try connection.readResponse().text == "second")
            #expect(try connection.readResponse().text == "third")
        }
    }

    @Test func chunkedBodiesAreDecodedAndTrailersIgnored() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            try connection.send("4\r\nWiki\r\n")
            try connection.send("5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.text == "Wikipedia in\r\n\r\nchunks.")
        }
    }

    @Test func percentDecodingRepeatedQueryKeysAndCaseInsensitiveHeaders() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            let response = try connection.get("/inspect?q=a+b&q=%C3%A9%26x&other=1", headers: "x-tEsT: found\r\n")
            let body = try JSONValue(parsing: response.body)
            #expect(body["x_test"] == "found")
            #expect(body["q"] == ["a b", "é&x"])
            #expect(try connection.get("/params/a%2Fb%20c/tail").text == "a/b c")
        }
    }

    @Test func absoluteFormAndOptionsStar() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            try connection.send("GET http://127.0.0.1:\(port)/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(try connection.readResponse().text == "hello")
            try connection.send("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
            let options = try connection.readResponse()
            #expect(options.status == 204)
            #expect(options.header("Allow") == "GET, HEAD, POST, OPTIONS")
        }
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            let missing = try connection.get("/nope")
            #expect(missing.status == 404)
            #expect(try JSONValue(parsing: missing.body) == ["error": "no route for GET /nope"])
            try connection.send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let wrong = try connection.readResponse()
            #expect(wrong.status == 405)
            #expect(wrong.header("Allow") == "GET, HEAD, OPTIONS")
            #expect(try JSONValue(parsing: wrong.body)["error"] == "DELETE is not allowed on /hello; use GET, HEAD, OPTIONS")
        }
    }

    @Test func handlerErrorsBecomeJSONAndTheConnectionSurvives() async throws {
        try await ServerFixture.with { _, port in
            let connection = try RawHTTPConnection(port: port)
            let conflict = try connection.get("/conflict")
            #expect(conflict.status == 409)
            #expect(try JSONValue(parsing: conflict.body) == ["error": "already there"])
            let failure = try connection.get("/fail", headers: "X-Request-Id: trace-42\r\n")
            #expect(failure.status == 500)
            #expect(failure.header("X-Request-Id") == "trace-42")
            #expect(try JSONValue(parsing: failure.body) == ["error": "internal error; the server log has the details under request id trace-42"])
            #expect(try connection.get("/hello").status == 200)
        }
    }

    @Test func malformedInputGets400AndTheConnectionCloses() async throws {
        try await ServerFixture.with { _, port in
            for garbage in ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\n\r\n", "\u{0}\u{1}\u{2}\r\n\r\n", "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n"] {
                let connection = try RawHTTPConnection(port: port)
                try connection.send(garbage)
                let response = try connection.readResponse()
                #expect(response.status == 400, "\(garbage.debugDescription)")
                #expect(response.header("Connection") == "close")
                #expect(response.header("Content-Type") == "application/json")
                #expect(connection.closedByServer())
            }
            // The server still serves others.
            #expect(try RawHTTPConnection(port: port).get("/hello").status == 200)
        }
    }

    @Test func middlewareSeesEveryRequestAndItsFinalStatus() async throws {
        let seen = LockedBox<[String]>([])
        let recorder: Middleware = { request, next in
            let response = next(request)
            seen.update { $0.append("\(request.method) \(request.route ?? "-") \(response.status.code)") }
            return response
        }
        let guardrail: Middleware = { request, next in
            if request.headers["X-Block"] != nil { throw HTTPError(.unauthorized, "blocked") }
            return next(request)
        }
        try await ServerFixture.with(middleware: [recorder, guardrail]) { _, port in
            let connection = try RawHTTPConnection(port: port)
            _ = try connection.get("/params/7/tail")
            _ = try connection.get("/nope")
            let blocked = try connection.get("/hello", headers: "X-Block: 1\r\n")
            #expect(blocked.status == 401)
            _ = try connection.get("/fail")
        }
        #expect(seen.get() == ["GET /params/{id}/tail 200", "GET - 404", "GET /hello 401", "GET /fail 500"])
    }

    @Test func servesIPv6Loopback() async throws {
        let server = HTTPServer(.init(host: "::1", port: 0), router: ServerFixture.router(), logger: .init(label: "test"))
        do {
            try server.start()
        } catch {
            // A machine without IPv6 cannot take part; everything else must work.
            return
        }
        defer { server.shutdown() }
        let port = server.port!
        try await onThread {
            let response = try RawHTTPConnection(port: port, host: "::1").get("/hello")
            #expect(response.text == "hello")
        }
    }

    @Test func bindingATakenPortFailsWithAReason() throws {
        let first = try ServerFixture.start()
        defer { first.shutdown() }
        let second = HTTPServer(.init(host: "127.0.0.1", port: first.port!), router: Router(), logger: .init(label: "test"))
        #expect(throws: SocketError.self) { try second.start() }
        #expect(throws: SocketError.self) {
            try HTTPServer(.init(host: "no-such-host.invalid", port: 0), router: Router(), logger: .init(label: "test")).start()
        }
    }
}
