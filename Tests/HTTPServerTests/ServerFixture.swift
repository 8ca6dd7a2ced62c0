import Foundation
import HTTPServer
import JSON
import Logging
import TestSupport

struct TestFailure: Error {}

/// A server on 127.0.0.1 with a free port and routes for exercising the HTTP layer.
enum ServerFixture {
    /// The `tag` of every `/slow` request as its handler starts: a test waits for its tag
    /// instead of sleeping until the request has surely reached its handler.
    static let reachedSlowHandler = Arrivals<String>()
    /// The `tag` of every `/until-cancelled` request whose client went away.
    static let cancelledRequests = Arrivals<String>()

    /// Wakes of parked `/parked` requests by tag, and the tags whose registration was cancelled.
    static let parkedWakes = LockedBox([String: @Sendable () -> Void]())
    static let parkCancelled = Arrivals<String>()

    /// A tag no other test uses.
    static func newTag() -> String { UUID().uuidString }

    static func router() -> Router {
        var router = Router()
        router.add(.get, "/hello", execution: .inline) { _ in .text("hello") }
        router.add(.post, "/echo") { request in
            HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: request.body)
        }
        router.add(.get, "/inspect") { request in
            .json([
                "x_test": request.headers["x-TEST"].map(JSONValue.string) ?? .null,
                "q": .array(request.queryValues("q").map(JSONValue.string)),
                "path": .string(request.path),
                "version": .string(request.version.description),
            ])
        }
        router.add(.get, "/params/{id}/tail") { request in .text(request.parameters["id"] ?? "?") }
        router.add(.get, "/slow") { request in
            if let tag = request.queryValue("tag") { reachedSlowHandler.append(tag) }
            let milliseconds = Int(request.queryValue("ms") ?? "") ?? 500
            Thread.sleep(forTimeInterval: Double(milliseconds) / 1000)
            return .text("slept \(milliseconds)")
        }
        // Waits up to 10 s for its client to go; reports the tag of each request so cancelled.
        router.add(.get, "/until-cancelled") { request in
            let tag = request.queryValue("tag") ?? ""
            let gone = DispatchSemaphore(value: 0)
            let watch = request.cancellation.onCancel {
                cancelledRequests.append(tag)
                gone.signal()
            }
            defer { watch.remove() }
            reachedSlowHandler.append(tag)
            _ = gone.wait(timeout: .now() + 10)
            return .text("not cancelled")
        }
        // Parks for `ms` (10 s by default) until woken through `parkedWakes`; answers "resumed"
        // when handled again, "fallback" when the server drains it.
        router.add(.get, "/parked") { request in
            let tag = request.queryValue("tag") ?? ""
            guard !request.isResumed else { return .text("resumed") }
            let milliseconds = Int(request.queryValue("ms") ?? "") ?? 10_000
            return .park(for: .milliseconds(milliseconds), fallback: { .text("fallback") }) { wake in
                parkedWakes.update { $0[tag] = wake }
                return { parkCancelled.append(tag) }
            }
        }
        router.add(.get, "/fail") { _ in throw TestFailure() }
        router.add(.get, "/conflict") { _ in throw HTTPError(.conflict, "already there") }
        return router
    }

    static func start(limits: HTTPLimits = HTTPLimits(), workerThreads: Int = 8, middleware: [Middleware] = []) throws -> HTTPServer {
        var logger = Logger(label: "test.http")
        logger.logLevel = .critical
        let server = HTTPServer(
            .init(host: "127.0.0.1", port: 0, limits: limits, workerThreads: workerThreads),
            router: router(), middleware: middleware, logger: logger)
        try server.start()
        return server
    }

    /// Starts a server, runs `body` with it and its port on a thread of its own, shuts it down.
    static func with<T: Sendable>(
        limits: HTTPLimits = HTTPLimits(), workerThreads: Int = 8, middleware: [Middleware] = [],
        _ body: @escaping @Sendable (HTTPServer, Int) throws -> T
    ) async throws -> T {
        let server = try start(limits: limits, workerThreads: workerThreads, middleware: middleware)
        defer { server.shutdown(gracePeriod: .seconds(2)) }
        return try await onThread { try body(server, server.port!) }
    }
}
