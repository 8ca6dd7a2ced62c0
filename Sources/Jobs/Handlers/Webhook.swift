import Chronology
import JSON
import Outbound
import Scheduling

/// `Webhook`: calls a URL for each firing, after the firing's transaction has committed, at
/// least once (see ``DeliveryDispatcher``), signed as Standard Webhooks says when the job has a
/// `secret`.
///
/// ```json
/// {"url": "https://hooks.example.com/nightly", "headers": {"X-Team": "data"}, "timeout": "10s",
///  "max_attempts": 5, "retry_delay": "10s", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
/// ```
public struct Webhook: JobHandler {
    public let name = "Webhook"
    public let slug = "webhook"
    /// Where calls may go: a literal address it refuses is refused at `POST /jobs` already.
    let policy: OutboundPolicy

    public var writeOnlyKwargs: Set<String> { WriteOnlyKwargs.keys }
    public var postsFlows: Bool { false }

    public init(policy: OutboundPolicy = OutboundPolicy()) { self.policy = policy }

    public func work(from kwargs: JSONObject) throws(KwargsError) -> any JobWork {
        try WebhookCall(kwargs, policy: policy)
    }
}

/// A webhook job's kwargs, read. `request` is what each firing records for its delivery.
struct WebhookCall: JobWork {
    static let keys = ["url", "method", "headers", "body", "timeout", "max_attempts", "retry_delay", "secret"]
    static let methods = ["POST", "PUT", "PATCH", "DELETE", "GET"]
    static let longestTimeout = Period(microseconds: 300_000_000)
    static let longestURL = 2048
    static let largestBody = 64 * 1024
    static let largestHeaders = 16 * 1024
    static let mostHeaders = 50
    /// Headers Kairos writes itself: a job may not set them.
    static let reservedHeaders: Set<String> = [
        "webhook-id", "webhook-timestamp", "webhook-signature", "content-length", "transfer-encoding", "host", "connection", "expect",
    ]

    var request: WebhookRequest
    var maxAttempts = 5

    init(_ kwargs: JSONObject, policy: OutboundPolicy) throws(KwargsError) {
        let reader = KwargsReader(kwargs, allowed: Self.keys)
        try reader.refuseUnknownKeys()
        guard let url = reader["url"] else { throw KwargsError("'url' is required: the http or https URL to call") }
        guard let text = url.stringValue, (1...Self.longestURL).contains(text.utf8.count) else {
            throw KwargsError("'url' must be a URL of at most \(Self.longestURL) bytes", at: [.key("url")])
        }
        guard let host = HTTPClient.host(of: text), !text.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) else {
            throw KwargsError("'url' must be an http or https URL with a host, such as https://hooks.example.com/nightly", at: [.key("url")])
        }
        if let refusal = policy.refusal(host: host) { throw KwargsError("'url': \(refusal)", at: [.key("url")]) }
        request = WebhookRequest(url: text)

        if let method = reader["method"] {
            guard let name = method.stringValue, Self.methods.contains(name) else {
                throw KwargsError("'method' must be one of \(Self.methods.joined(separator: ", ")), not \(method.serialized())", at: [.key("method")])
            }
            request.method = name
        }
        if let headers = reader["headers"], !headers.isNull { request.headers = try Self.headers(headers) }
        if let body = reader["body"], !body.isNull {
            // Copied into every firing's record: kept small, as webhook payloads are.
            let size = body.serializedBytes().count
            guard size <= Self.largestBody else {
                throw KwargsError("'body' is \(size) bytes as compact JSON; at most \(Self.largestBody)", at: [.key("body")])
            }
            request.body = body
        }
        request.timeout = try Self.period("timeout", reader, fallback: request.timeout, range: Period(microseconds: 1_000_000)...Self.longestTimeout)
        request.retryDelay = try Self.period(
            "retry_delay", reader, fallback: request.retryDelay, range: Period(microseconds: 1_000_000)...WorkPolicy.longestRetryDelay)
        if let attempts = reader["max_attempts"] {
            guard let number = attempts.intValue, WorkPolicy.attemptsRange.contains(Int(number)) else {
                throw KwargsError(
                    "'max_attempts' must be a whole number from \(WorkPolicy.attemptsRange.lowerBound) to \(WorkPolicy.attemptsRange.upperBound), not \(attempts.serialized())",
                    at: [.key("max_attempts")])
            }
            maxAttempts = Int(number)
        }
        if let secret = reader["secret"], !secret.isNull {
            try WriteOnlyKwargs.checkSecret(secret)
            request.signed = true
        }
    }

    func fire(_ firing: FiringIdentity, context: FiringContext) throws -> FiringDecision {
        FiringDecision(delivery: DeliveryRequest(request: request.json, maxAttempts: maxAttempts))
    }

    private static func headers(_ value: JSONValue) throws(KwargsError) -> [(name: String, value: String)] {
        guard let object = value.objectValue else {
            throw KwargsError("'headers' must be an object of header names to string values", at: [.key("headers")])
        }
        guard object.count <= mostHeaders else { throw KwargsError("'headers' may hold at most \(mostHeaders) headers", at: [.key("headers")]) }
        var headers: [(name: String, value: String)] = []
        for (name, value) in object {
            let path: JSONPath = [.key("headers"), .key(name)]
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                throw KwargsError("header name \(JSONValue.string(name).serialized()) is not a valid HTTP header name", at: path)
            }
            guard !reservedHeaders.contains(name.lowercased()) else {
                throw KwargsError("header \(name) is written by Kairos and cannot be set", at: path)
            }
            guard let text = value.stringValue, text.utf8.count <= 8192,
                !text.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f })
            else {
                throw KwargsError("header \(name) must be a string of at most 8192 bytes without control characters", at: path)
            }
            headers.append((name, text))
        }
        // What most servers take in a request head, and what every firing's record copies.
        let bytes = headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        guard bytes <= largestHeaders else {
            throw KwargsError("'headers' come to \(bytes) bytes; at most \(largestHeaders) in all", at: [.key("headers")])
        }
        return headers
    }

    private static func period(
        _ key: String, _ reader: KwargsReader, fallback: Period, range: ClosedRange<Period>
    ) throws(KwargsError) -> Period {
        guard let value = reader[key] else { return fallback }
        guard let text = value.stringValue else {
            throw KwargsError("'\(key)' must be a duration such as \"10s\", not \(value.kindDescription)", at: [.key(key)])
        }
        let period: Period
        do {
            period = try Period(parsing: text)
        } catch {
            throw KwargsError("'\(key)': \(error)", at: [.key(key)])
        }
        guard range.contains(period) else {
            throw KwargsError("'\(key)' must be from \(range.lowerBound) to \(range.upperBound), not \(period)", at: [.key(key)])
        }
        return period
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

/// What a webhook firing sends, as recorded with its delivery (no secret: that is read from the
/// job at each attempt, so a rotated secret signs the retries).
struct WebhookRequest: Sendable {
    var url: String
    var method = "POST"
    var headers: [(name: String, value: String)] = []
    /// Nil: the firing document (``WebhookMessage``).
    var body: JSONValue?
    /// The job had a secret when it fired: every attempt must be signed.
    var signed = false
    var timeout = Period(microseconds: 10_000_000)
    var retryDelay = Period(microseconds: 10_000_000)

    var json: JSONObject {
        var object: JSONObject = [
            "url": .string(url), "method": .string(method),
            "headers": .object(JSONObject(headers.map { ($0.name, JSONValue.string($0.value)) })),
            "timeout_us": .int(timeout.microseconds), "retry_delay_us": .int(retryDelay.microseconds),
        ]
        if let body { object["body"] = body }
        if signed { object["signed"] = true }
        return object
    }

    /// Reads what ``json`` wrote.
    init?(stored object: JSONObject) {
        guard let url = object["url"]?.stringValue, let method = object["method"]?.stringValue,
            let timeout = object["timeout_us"]?.intValue, let retryDelay = object["retry_delay_us"]?.intValue
        else { return nil }
        self.url = url
        self.method = method
        headers = (object["headers"]?.objectValue ?? [:]).compactMap { name, value in value.stringValue.map { (name, $0) } }
        body = object["body"]
        signed = object["signed"]?.boolValue ?? false
        self.timeout = Period(microseconds: timeout)
        self.retryDelay = Period(microseconds: retryDelay)
    }

    init(url: String) { self.url = url }
}
