import Foundation
import Dispatch
import Logging

/// Wraps request handling: sees the request first and the response last, and may answer by
/// itself (an auth check) or decorate the response. `next` never throws a client error at it:
/// errors below have already become responses.
public typealias Middleware = @Sendable (HTTPRequest, _ next: (HTTPRequest) -> HTTPResponse) throws -> HTTPResponse

/// What the access log says about one answered request.
public struct AccessLogEntry: Sendable {
    public var requestID: String
    public var method: String
    public var path: String
    public var status: Int
    /// From when the request was read to when its answer was ready, long-poll waits included.
    public var latencyMicroseconds: Int64

    public init(requestID: String, method: String, path: String, status: Int, latencyMicroseconds: Int64) {
        self.requestID = requestID
        self.method = method
        self.path = path
        self.status = status
        self.latencyMicroseconds = latencyMicroseconds
    }

    /// `GET /api/v1/jobs 200`: the line's message.
    public var message: String { "\(method) \(path) \(status)" }

    /// The line's metadata, for a logger that takes any.
    public var metadata: Logger.Metadata {
        [
            "request.id": .string(requestID), "method": .string(method), "path": .string(path),
            "status": .stringConvertible(status), "latency_ms": .stringConvertible(Double(latencyMicroseconds) / 1_000),
        ]
    }
}

public enum Middlewares {
    /// One log line per request at `info` through `logger`: method, path, status and latency in
    /// milliseconds, with the request id in the metadata. See ``accessLog(_:)-(AccessLogEntry)``.
    public static func accessLog(_ logger: Logger) -> Middleware {
        accessLog { entry in logger.info("\(entry.message)", metadata: entry.metadata) }
    }

    /// Hands `record` an ``AccessLogEntry`` per request once it is answered: latency from when
    /// the request was read, long-poll waits included. A parked request is recorded once, when it
    /// is answered. `record` decides whether and how to write it.
    public static func accessLog(_ record: @escaping @Sendable (AccessLogEntry) -> Void) -> Middleware {
        { request, next in
            let response = next(request)
            guard !response.isParked else { return response }
            let elapsed = ContinuousClock.now - request.receivedAt
            record(AccessLogEntry(
                requestID: request.id, method: request.method.name, path: request.path, status: response.status.code,
                latencyMicroseconds: elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
            return response
        }
    }
}
