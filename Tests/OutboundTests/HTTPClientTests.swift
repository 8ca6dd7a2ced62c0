import Foundation
import Outbound
import TestSupport
import Testing

/// The outbound client against a real server on loopback.
@Suite struct HTTPClientTests {
    static let loopback = OutboundPolicy(allowedRanges: [AddressRange("127.0.0.0/8")!])

    static func post(_ client: HTTPClient, _ url: String, timeout: Duration = .seconds(5)) -> Result<OutboundAnswer, OutboundFailure> {
        client.send(OutboundRequest(url: url, headers: [("X-Test", "1")], body: Array(#"{"a":1}"#.utf8), timeout: timeout))
    }

    @Test func anAnswerComesBackWithItsStatusAndFirstBytes() throws {
        let receiver = try WebhookReceiver { path, _ in
            switch path {
            case "/created": .init(201, body: "made")
            case "/moved": .init(302, body: "elsewhere")
            case "/big": .init(200, body: String(repeating: "x", count: 100_000))
            default: .init(500, body: "broken")
            }
        }
        let client = HTTPClient(policy: Self.loopback)
        #expect(try Self.post(client, receiver.url("/created")).get() == OutboundAnswer(status: 201, head: Array("made".utf8), truncated: false))
        // A redirect is an answer like any other: not followed.
        #expect(try Self.post(client, receiver.url("/moved")).get().status == 302)
        #expect(try Self.post(client, receiver.url("/broken")).get().status == 500)
        let big = try Self.post(client, receiver.url("/big")).get()
        #expect(big.status == 200 && big.head.count == HTTPClient.keptAnswerBytes && !big.truncated)
        let arrival = try #require(receiver.arrivals.all.first)
        #expect(arrival.method == "POST" && arrival.text == #"{"a":1}"# && arrival.header("X-Test") == "1")
        #expect(arrival.header("Expect") == nil)
    }

    @Test func anAnswerPastTheLimitIsCutThereAndJudgedByItsStatus() throws {
        let receiver = try WebhookReceiver { _, _ in .init(200, body: String(repeating: "y", count: 200_000)) }
        let answer = try Self.post(HTTPClient(policy: Self.loopback, answerLimit: 50_000), receiver.url()).get()
        #expect(answer.status == 200 && answer.truncated && answer.head.count == HTTPClient.keptAnswerBytes)
    }

    @Test func aTargetThatDoesNotAnswerInTimeIsATimeout() throws {
        let receiver = try WebhookReceiver { _, _ in .init(200, after: .seconds(3)) }
        let stopwatch = Stopwatch()
        let result = Self.post(HTTPClient(policy: Self.loopback), receiver.url(), timeout: .seconds(1))
        #expect(stopwatch.elapsed < 2.5)
        guard case .failure(let failure) = result else { Issue.record("answered: \(result)"); return }
        #expect(failure.kind == .timeout, "\(failure)")
    }

    @Test func aClosedPortIsATransportFailure() throws {
        let port = try WebhookReceiver().port  // stopped when let go of
        guard case .failure(let failure) = Self.post(HTTPClient(policy: Self.loopback), "http://127.0.0.1:\(port)/x") else {
            Issue.record("answered")
            return
        }
        #expect(failure.kind == .transport)
    }

    /// The guard judges the addresses a name resolves to, as libcurl connects: "localhost" is
    /// this machine, refused unless allowed; a name that resolves to the metadata address is
    /// refused however it is allowed.
    @Test func namesAreJudgedByTheAddressesTheyResolveTo() throws {
        let receiver = try WebhookReceiver()
        let closed = HTTPClient(policy: OutboundPolicy())
        guard case .failure(let failure) = Self.post(closed, "http://localhost:\(receiver.port)/x") else {
            Issue.record("localhost was called")
            return
        }
        #expect(failure.kind == .refused && failure.message.contains("loopback"), "\(failure)")
        #expect(try Self.post(HTTPClient(policy: OutboundPolicy(allowedHosts: ["localhost"])), "http://localhost:\(receiver.port)/x").get().status == 200)

        let tricked = HTTPClient(policy: OutboundPolicy(allowedHosts: ["metadata.test"]), resolving: ["metadata.test:80:169.254.169.254"])
        guard case .failure(let metadata) = Self.post(tricked, "http://metadata.test/latest/meta-data/", timeout: .seconds(2)) else {
            Issue.record("the metadata address was called")
            return
        }
        #expect(metadata.kind == .refused && metadata.message.contains("169.254.169.254"), "\(metadata)")
        #expect(receiver.arrivals.all.count == 1)
    }

    @Test func onlyHTTPAndHTTPSURLsWithAHostAreCalled() {
        for url in ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:70/", "http://", "not a url", "dict://127.0.0.1:11211/"] {
            #expect(HTTPClient.host(of: url) == nil, "\(url)")
            guard case .failure = HTTPClient(policy: Self.loopback).send(OutboundRequest(url: url, timeout: .seconds(1))) else {
                Issue.record("\(url) was called")
                continue
            }
        }
        #expect(HTTPClient.host(of: "HTTPS://Hooks.Example.com:8443/a?b#c") == "Hooks.Example.com")
        #expect(HTTPClient.host(of: "http://[::1]:80/") == "[::1]")
    }

    /// An https URL is never sent in the clear: a server that does not speak TLS gets no request.
    /// (A server with a self-signed certificate is refused in scripts/webhook-check.py, which
    /// makes one with openssl.)
    @Test func httpsToAServerWithoutTLSSendsNothing() throws {
        let receiver = try WebhookReceiver()
        guard case .failure = Self.post(HTTPClient(policy: Self.loopback), "https://127.0.0.1:\(receiver.port)/x", timeout: .seconds(2)) else {
            Issue.record("answered over https without TLS")
            return
        }
        #expect(receiver.arrivals.all.isEmpty)
    }
}
