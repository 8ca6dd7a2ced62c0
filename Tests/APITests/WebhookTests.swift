import API
import Chronology
import Foundation
import JSON
import Jobs
import Logging
import Outbound
import TestSupport
import Testing

/// The `Webhook` handler through the API, delivered by a real dispatcher to a real receiver on
/// loopback; the fixture's clock stands in for time (retries are due by it).
@Suite struct WebhookTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let loopback = OutboundPolicy(allowedRanges: [AddressRange("127.0.0.0/8")!])
    static let handlers = HandlerRegistry.standard(filters: .standard, outbound: loopback)

    /// The API with loopback allowed, a receiver answering as `answer` says, and a dispatcher
    /// on the fixture's clock that a test drives with ``deliver(_:)``.
    static func with(
        answer: @escaping @Sendable (String, Int) -> WebhookReceiver.Answer = { _, _ in .init(200, body: "ok") },
        _ body: @escaping @Sendable (APIFixture, WebhookReceiver, DeliveryDispatcher) throws -> Void
    ) async throws {
        try await APIFixture.with(handlers: handlers) { api in
            let receiver = try WebhookReceiver(answer: answer)
            var logger = Logger(label: "test.deliveries")
            logger.logLevel = .critical
            let dispatcher = DeliveryDispatcher(
                pool: api.pool, client: HTTPClient(policy: loopback), clock: .test { api.clock.now },
                configuration: .init(concurrency: 4, leaseMargin: .seconds(5)), logger: logger)
            try body(api, receiver, dispatcher)
            #expect(dispatcher.waitUntilIdle(timeout: .seconds(30)))
        }
    }

    /// Takes up what is due and waits until those calls are recorded; returns how many it took.
    @discardableResult
    static func deliver(_ dispatcher: DeliveryDispatcher) throws -> Int {
        let started = try dispatcher.dispatchDue()
        #expect(dispatcher.waitUntilIdle(timeout: .seconds(30)))
        return started
    }

    static func create(_ api: APIFixture, _ id: String = "hook", kwargs: JSONObject, keys: JSONObject = [:]) throws -> APIFixture.Reply {
        var body: JSONObject = ["job_id": .string(id), "handler": "Webhook", "when": .string((APIFixture.now + 3_600_000_000).iso8601), "kwargs": .object(kwargs)]
        for (key, value) in keys { body[key] = value }
        return try api.call("POST", "/api/v1/jobs", json: .object(body))
    }

    static func latestRun(_ api: APIFixture, _ id: String = "hook") throws -> JSONValue {
        try #require(try api.call("GET", "/api/v1/jobs/\(id)/runs").json["runs"]?.arrayValue?.first)
    }

    @Test func aFiringIsDeliveredSignedOnceItCommitsAndItsRunSucceeds() async throws {
        try await Self.with { api, receiver, dispatcher in
            let created = try Self.create(api, kwargs: ["url": .string(receiver.url()), "secret": .string(Self.secret), "headers": ["X-Team": "data"]])
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json["job"]?["kwargs"]?["secret"] == "(write-only)")
            #expect(!created.text.contains(Self.secret))
            let run = try api.call("POST", "/api/v1/jobs/hook/run")
            #expect(run.status == 201)
            #expect(run.json["run"]?["status"] == "pending" || run.json["status"] == "pending", "\(run.text)")
            #expect(try Self.deliver(dispatcher) == 1)

            let arrival = try #require(receiver.arrivals.all.first)
            let id = try #require(arrival.header("webhook-id"))
            let timestamp = try #require(arrival.header("webhook-timestamp").flatMap { Int64($0) })
            #expect(abs(timestamp - Int64(Date().timeIntervalSince1970)) < 60)
            #expect(arrival.header("webhook-signature") == WebhookSignature.sign(id: id, timestamp: timestamp, body: arrival.body, secret: try WebhookSecret(Self.secret)))
            #expect(id == "hook@\(APIFixture.now.iso8601)")
            #expect(arrival.header("X-Team") == "data" && arrival.header("Content-Type") == "application/json")
            let document = try JSONValue(parsing: arrival.body)
            #expect(document["job_id"] == "hook" && document["attempt"] == 1 && document["run_id"]?.intValue != nil)
            #expect(document["kwargs"]?["url"]?.stringValue == receiver.url() && document["kwargs"]?["secret"] == nil)

            let latest = try Self.latestRun(api)
            #expect(latest["status"] == "succeeded" && latest["finished_at"] != .null)
            let attempts = try #require(latest["delivery"]?["attempts"]?.arrayValue)
            #expect(attempts.count == 1 && attempts[0]["status_code"] == 200 && attempts[0]["answer"] == "ok")
            #expect(try Self.deliver(dispatcher) == 0)  // nothing left: delivered once
        }
    }

    /// 500 twice, then 200: three attempts, each with the same `webhook-id`, spaced by the backoff.
    @Test func failedAttemptsAreRetriedWithTheSameIDUntilOneSucceeds() async throws {
        try await Self.with(answer: { _, previous in previous < 2 ? .init(500, body: "down") : .init(204) }) { api, receiver, dispatcher in
            #expect(try Self.create(api, kwargs: ["url": .string(receiver.url()), "retry_delay": "1s", "max_attempts": 3]).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.deliver(dispatcher) == 1)
            // Not due again before its delay (1 s, ±10 %)...
            api.clock.now = APIFixture.now + 850_000
            #expect(try Self.deliver(dispatcher) == 0)
            #expect(try Self.latestRun(api)["delivery"]?["state"] == "due")
            // ...then due; the second retry waits twice as long.
            api.clock.now = APIFixture.now + 1_200_000
            #expect(try Self.deliver(dispatcher) == 1)
            api.clock.now = APIFixture.now + 2_900_000
            #expect(try Self.deliver(dispatcher) == 0)
            api.clock.now = APIFixture.now + 3_500_000
            #expect(try Self.deliver(dispatcher) == 1)

            let arrivals = receiver.arrivals.all
            #expect(arrivals.count == 3)
            #expect(Set(arrivals.compactMap { $0.header("webhook-id") }).count == 1)
            #expect(arrivals.compactMap { try? JSONValue(parsing: $0.body)["attempt"]?.intValue } == [1, 2, 3])
            let latest = try Self.latestRun(api)
            #expect(latest["status"] == "succeeded")
            #expect(latest["delivery"]?["attempts"]?.arrayValue?.map { $0["status_code"] } == [500, 500, 204])
            #expect(latest["delivery"]?["attempts"]?.arrayValue?.first?["error"] == "answered 500")
        }
    }

    /// Always 500: failed after max_attempts, every attempt recorded, and fabric8's failure
    /// record written, without the secret.
    @Test func aDeliveryThatNeverSucceedsFailsItsRunAndWritesAFailureRecord() async throws {
        try await Self.with(answer: { _, _ in .init(500, body: "still down") }) { api, receiver, dispatcher in
            let kwargs: JSONObject = ["url": .string(receiver.url()), "retry_delay": "1s", "max_attempts": 2, "secret": .string(Self.secret)]
            #expect(try Self.create(api, kwargs: kwargs).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.deliver(dispatcher) == 1)
            api.clock.now = APIFixture.now + 5_000_000
            #expect(try Self.deliver(dispatcher) == 1)
            api.clock.now = APIFixture.now + 60_000_000
            #expect(try Self.deliver(dispatcher) == 0)
            #expect(receiver.arrivals.all.count == 2)
            let latest = try Self.latestRun(api)
            #expect(latest["status"] == "failed" && latest["delivery"]?["state"] == "failed")
            #expect(latest["error"]?.stringValue?.contains("after 2 attempt(s): answered 500") == true, "\(latest)")
            #expect(latest["delivery"]?["attempts"]?.arrayValue?.map { $0["answer"] } == ["still down", "still down"])
            let failed = try api.call("GET", "/api/v1/jobs?job_type=failed")
            #expect(failed.json["jobs_count"] == 1, "\(failed.text)")
            let everything = try api.call("GET", "/api/v1/jobs?job_type=all")
            #expect(!failed.text.contains(Self.secret) && !everything.text.contains(Self.secret))
        }
    }

    @Test func aTargetThatDoesNotAnswerInTimeIsAFailedAttempt() async throws {
        try await Self.with(answer: { _, _ in .init(200, after: .seconds(4)) }) { api, receiver, dispatcher in
            #expect(try Self.create(api, kwargs: ["url": .string(receiver.url()), "timeout": "1s", "max_attempts": 1]).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            let stopwatch = Stopwatch()
            #expect(try Self.deliver(dispatcher) == 1)
            #expect(stopwatch.elapsed < 3.5)
            let latest = try Self.latestRun(api)
            #expect(latest["status"] == "failed")
            let error = latest["delivery"]?["attempts"]?.arrayValue?.first?["error"]?.stringValue ?? ""
            #expect(error.contains("no answer within"), "\(error)")
        }
    }

    /// A name that resolves to this machine is refused at delivery when not allowed: the guard
    /// judges addresses after DNS, not only the URL's text.
    @Test func aNameResolvingToAnAddressNotAllowedIsRefusedAtDelivery() async throws {
        try await APIFixture.with(handlers: .standard) { api in
            let receiver = try WebhookReceiver()
            let dispatcher = DeliveryDispatcher(pool: api.pool, client: HTTPClient(policy: OutboundPolicy()), clock: .test { api.clock.now })
            #expect(try Self.create(api, kwargs: ["url": .string("http://localhost:\(receiver.port)/hook"), "max_attempts": 1]).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.deliver(dispatcher) == 1)
            #expect(receiver.arrivals.all.isEmpty)
            let latest = try Self.latestRun(api)
            #expect(latest["status"] == "failed")
            #expect(latest["delivery"]?["attempts"]?.arrayValue?.first?["error"]?.stringValue?.contains("loopback or private") == true, "\(latest)")
        }
    }

    static let badKwargs: [(JSONObject, String)] = [
        (["url": "ftp://example.com/x"], "'url' must be an http or https URL"),
        (["url": "http://169.254.169.254/latest/meta-data/"], "never call"),
        (["url": "http://[fe80::1]/x"], "never call"),
        (["url": "http://metadata.google.internal/x"], "cloud metadata"),
        (["url": "http://10.0.0.1/x"], "KAIROS_WEBHOOK_ALLOW"),
        (["url": "http://example.com/a b"], "'url' must be an http or https URL"),
        ([:], "'url' is required"),
        (["url": "https://example.com/", "method": "post"], "'method' must be one of"),
        (["url": "https://example.com/", "headers": ["webhook-id": "x"]], "written by Kairos"),
        (["url": "https://example.com/", "headers": ["Bad Name": "x"]], "not a valid HTTP header name"),
        (["url": "https://example.com/", "headers": ["X-A": "a\r\nX-B: b"]], "without control characters"),
        (["url": "https://example.com/", "headers": .object(JSONObject((0..<3).map { ("X-\($0)", JSONValue.string(String(repeating: "v", count: 6000))) }))],
         "'headers' come to 18021 bytes; at most 16384"),
        (["url": "https://example.com/", "timeout": "10m"], "'timeout' must be from"),
        (["url": "https://example.com/", "timeout": "0s"], "'timeout' must be from"),
        (["url": "https://example.com/", "max_attempts": 101], "'max_attempts' must be a whole number from 1 to 100"),
        (["url": "https://example.com/", "retry_delay": "2 days"], "'retry_delay' must be from"),
        (["url": "https://example.com/", "secret": "whsec_tooshort"], "'secret' is not a Standard Webhooks secret"),
        (["url": "https://example.com/", "secret": "(write-only)"], "'secret' is write-only"),
        (["url": "https://example.com/", "secret": 7], "'secret' must be a string"),
        (["url": "https://example.com/", "color": "red"], "unknown key \"color\""),
    ]

    @Test(arguments: badKwargs)
    func badKwargsAreRefusedNamingTheKey(kwargs: JSONObject, message: String) async throws {
        try await APIFixture.with { api in
            let reply = try Self.create(api, kwargs: kwargs)
            #expect(reply.status == 400 && reply.error?.contains(message) == true, "\(reply.text)")
            #expect(reply.error?.contains("whsec_tooshort") != true)  // a secret is never repeated back
        }
    }

    @Test func jobKeysForFlowsAreRefusedOnAWebhookJob() async throws {
        try await APIFixture.with { api in
            let reply = try Self.create(api, kwargs: ["url": "https://example.com/"], keys: ["max_attempts": "3"])
            #expect(reply.status == 400 && reply.error?.contains("give it in 'kwargs'") == true, "\(reply.text)")
        }
    }

    /// Replacing a job with a secret takes the client's say-so: give it again, "keep", or null.
    @Test func aSecretIsKeptOnReplaceOnlyWhenTheClientSaysSo() async throws {
        try await Self.with { api, receiver, dispatcher in
            let url = JSONValue.string(receiver.url())
            #expect(try Self.create(api, kwargs: ["url": url, "secret": "keep"]).error?.contains("has one") == true)
            #expect(try Self.create(api, kwargs: ["url": url, "secret": .string(Self.secret)]).status == 201)
            let omitted = try Self.create(api, kwargs: ["url": url])
            #expect(omitted.status == 400 && omitted.error?.contains("give it again, \"keep\" to keep it, or null") == true, "\(omitted.text)")
            let kept = try Self.create(api, kwargs: ["url": url, "secret": "keep", "headers": ["X-Version": "2"]])
            #expect(kept.status == 200, "\(kept.text)")
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.deliver(dispatcher) == 1)
            let signed = try #require(receiver.arrivals.all.last)
            #expect(signed.header("X-Version") == "2")
            #expect(signed.header("webhook-signature") == WebhookSignature.sign(
                id: signed.header("webhook-id")!, timestamp: Int64(signed.header("webhook-timestamp")!)!, body: signed.body,
                secret: try WebhookSecret(Self.secret)))

            #expect(try Self.create(api, kwargs: ["url": url, "secret": .null]).status == 200)
            api.clock.now = APIFixture.now + 1_000_000
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.deliver(dispatcher) == 1)
            #expect(receiver.arrivals.all.last?.header("webhook-signature") == nil)
            // Nothing to keep any more; and another handler's job of that id replaces it freely.
            #expect(try Self.create(api, kwargs: ["url": url, "secret": "keep"]).status == 400)
            #expect(try api.call("POST", "/api/v1/jobs", json: ["job_id": "hook", "handler": "FlowScheduling", "kwargs": ["flow_name": "f"]]).status == 200)
        }
    }

    /// A process that took a delivery and died before recording anything does not use up an
    /// attempt: with max_attempts 1, the next process still calls (with the next attempt number).
    @Test func aTakeoverAfterACrashDoesNotUseUpAnAttempt() async throws {
        try await Self.with { api, receiver, dispatcher in
            #expect(try Self.create(api, kwargs: ["url": .string(receiver.url()), "max_attempts": 1, "timeout": "1s"]).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            // What a process that took it and was killed mid-call leaves: a lease, no attempt recorded.
            try api.pool.withConnection { connection in
                try connection.execute("UPDATE deliveries SET state = 'delivering', attempt = attempt + 1, lease_token = gen_random_uuid(), due_at = \(APIFixture.now + 6_000_000)")
            }
            #expect(try Self.deliver(dispatcher) == 0)  // leased
            api.clock.now = APIFixture.now + 6_000_000
            #expect(try Self.deliver(dispatcher) == 1)
            #expect(receiver.arrivals.all.count == 1)
            #expect(try JSONValue(parsing: receiver.arrivals.all[0].body)["attempt"] == 2)
            let latest = try Self.latestRun(api)
            #expect(latest["status"] == "succeeded" && latest["delivery"]?["attempts_made"] == 2, "\(latest)")
        }
    }

    /// An answer with U+0000 (binary, say) is still recorded, the bytes that jsonb cannot hold dropped.
    @Test func anAnswerWithANulByteIsRecorded() async throws {
        try await Self.with(answer: { _, _ in .init(200, body: "a\u{0}b") }) { api, receiver, dispatcher in
            #expect(try Self.create(api, kwargs: ["url": .string(receiver.url())]).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.deliver(dispatcher) == 1)
            let latest = try Self.latestRun(api)
            #expect(latest["status"] == "succeeded" && latest["delivery"]?["attempts"]?.arrayValue?.first?["answer"] == "ab", "\(latest)")
        }
    }

    /// A firing recorded with a secret is never sent unsigned, though its job's secret is gone since.
    @Test func aSignedFiringIsNotSentUnsignedAfterItsSecretIsDropped() async throws {
        try await Self.with { api, receiver, dispatcher in
            let url = JSONValue.string(receiver.url())
            #expect(try Self.create(api, kwargs: ["url": url, "secret": .string(Self.secret), "max_attempts": 1]).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.create(api, kwargs: ["url": url, "secret": .null]).status == 200)
            #expect(try Self.deliver(dispatcher) == 1)
            #expect(receiver.arrivals.all.isEmpty)
            let runs = try #require(try api.call("GET", "/api/v1/jobs/hook/runs").json["runs"]?.arrayValue)
            let error = runs.last?["delivery"]?["attempts"]?.arrayValue?.first?["error"]?.stringValue ?? ""
            #expect(error.contains("not sent unsigned"), "\(runs)")
        }
    }

    /// A body is copied into every firing's record: 64 KiB of compact JSON at most.
    @Test func aBodyAtItsLimitIsTakenAndOneByteMoreIsNot() async throws {
        try await APIFixture.with { api in
            let atLimit = JSONValue.string(String(repeating: "x", count: 64 * 1024 - 2))  // with its quotes
            #expect(try Self.create(api, kwargs: ["url": "https://example.com/", "body": atLimit]).status == 201)
            let over = JSONValue.string(String(repeating: "x", count: 64 * 1024 - 1))
            let reply = try Self.create(api, "other", kwargs: ["url": "https://example.com/", "body": over])
            #expect(reply.status == 400 && reply.error?.contains("'body' is 65537 bytes") == true, "\(reply.text.prefix(200))")
        }
    }

    /// Overlap policies see a delivery under way as the job's previous work.
    @Test func aDeliveryUnderWayIsBusyWorkForTheOverlapPolicy() async throws {
        try await Self.with(answer: { _, _ in .init(200, after: .seconds(2)) }) { api, receiver, dispatcher in
            #expect(try Self.create(api, kwargs: ["url": .string(receiver.url())], keys: ["overlap": "skip"]).status == 201)
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try dispatcher.dispatchDue() == 1)
            api.clock.now = APIFixture.now + 1_000_000
            let second = try api.call("POST", "/api/v1/jobs/hook/run")
            #expect(second.status == 201)
            #expect(try Self.latestRun(api)["status"] == "skipped")
            #expect(dispatcher.waitUntilIdle(timeout: .seconds(30)))
            api.clock.now = APIFixture.now + 2_000_000
            #expect(try api.call("POST", "/api/v1/jobs/hook/run").status == 201)
            #expect(try Self.latestRun(api)["status"] == "pending")
        }
    }
}
