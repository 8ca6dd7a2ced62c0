import Foundation
import Dispatch
import Logging

/// Wraps request handling: sees the request first and the response last, and may answer by
/// itself (an auth check) or decorate the response. `next` never throws a client error at it:
/// errors below have already become responses.
public typealias Middleware = @Sendable (HTTPRequest, _ next: (HTTPRequest) -> HTTPResponse) throws -> HTTPResponse

public enum Middlewares {
    /// One log line per request at `info`: method, path, status and latency in milliseconds
    /// (from when the request was read, long-poll waits included), with the request id in the
    /// metadata. A parked request is logged once, when it is answered.
    public static func accessLog(_ logger: Logger) -> Middleware {
        { request, next in
            let response = next(request)
            guard !response.isParked else { return response }
            // Microsecond steps: three decimals of milliseconds, as a number.
            let elapsed = ContinuousClock.now - request.receivedAt
            let milliseconds = Double(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000) / 1_000
            logger.info(
                "\(request.method) \(request.path) \(response.status.code)",
                metadata: [
                    "request.id": "\(request.id)", "method": "\(request.method)", "path": "\(request.path)",
                    "status": .stringConvertible(response.status.code), "latency_ms": .stringConvertible(milliseconds),
                ])
            return response
        }
    }
}
