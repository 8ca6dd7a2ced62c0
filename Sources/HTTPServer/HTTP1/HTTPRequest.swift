/// A parsed request, with what routing and middleware attach to it.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request-target as sent: `/api/v1/jobs?job_type=failed`, `http://host/x`, or `*`.
    public var target: String
    /// The path, percent-decoded, for logs and messages: `/api/v1/jobs/nightly job`.
    public var path: String
    /// The path's segments, each percent-decoded on its own, so `a%2Fb` stays one segment `a/b`.
    /// `/api/v1/ui/` is `["api", "v1", "ui", ""]`; `*` has none.
    public var pathSegments: [String]
    /// Query parameters in order, repeated names kept, `+` read as a space.
    public var query: [(name: String, value: String)]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Whether the connection may carry another request after this one.
    public var keepAlive: Bool

    /// Assigned by the server: the client's `X-Request-Id` when it is sensible, else a new one.
    public var id: String = ""
    /// Values of the route's `{name}` segments.
    public var parameters: [String: String] = [:]
    /// The pattern of the route that matched, such as `/api/v1/jobs/{job_id}`; nil when none did.
    public var route: String?
    /// Cancelled when the client goes away before its answer: the server watches for that while
    /// a handler runs.
    public let cancellation = RequestCancellation()
    /// When the request was read, by the monotonic clock: latencies and long-poll waits count from it.
    public let receivedAt = ContinuousClock.now
    /// Handled again after its handler parked it (see `Parking`).
    public var isResumed = false

    public init(
        method: HTTPMethod, target: String, path: String, pathSegments: [String],
        query: [(name: String, value: String)] = [], version: HTTPVersion = .http11,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], keepAlive: Bool = true
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.pathSegments = pathSegments
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    /// The first value of the query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Every value of the query parameter `name`, in order.
    public func queryValues(_ name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }
}

public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public static let http10 = HTTPVersion(major: 1, minor: 0)
    public static let http11 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}
