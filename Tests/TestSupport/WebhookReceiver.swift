import Chronology
import Foundation
import HTTPServer
import Logging

/// A real HTTP server on loopback that records every request it gets and answers each as
/// `answer` says (given the path and how many requests that path had before): a webhook's
/// target in tests.
public final class WebhookReceiver: @unchecked Sendable {
    // @unchecked: `server` is set once in init; `arrivals` and `counts` are thread-safe.
    public struct Arrival: Sendable {
        public let method: String
        public let path: String
        public let headers: [(name: String, value: String)]
        public let body: [UInt8]
        public let at: Date

        public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// An answer: its status, how long to wait before giving it, its body.
    public struct Answer: Sendable {
        public var status: Int
        public var delay: Duration
        public var body: String

        public init(_ status: Int, after delay: Duration = .zero, body: String = "") {
            self.status = status
            self.delay = delay
            self.body = body
        }
    }

    public let arrivals = Arrivals<Arrival>()
    private let counts = LockedBox<[String: Int]>([:])
    private var server: HTTPServer!
    public var port: Int { server.port! }

    public init(answer: @escaping @Sendable (_ path: String, _ previous: Int) -> Answer = { _, _ in Answer(200, body: "ok") }) throws {
        var router = Router()
        let handler: HTTPHandler = { [arrivals, counts] request in
            let previous = counts.update { counts in
                defer { counts[request.path, default: 0] += 1 }
                return counts[request.path, default: 0]
            }
            arrivals.append(Arrival(
                method: request.method.name, path: request.path, headers: request.headers.map { ($0.name, $0.value) }, body: request.body,
                at: Date()))
            let reply = answer(request.path, previous)
            if reply.delay > .zero { Thread.sleep(forTimeInterval: reply.delay.timeInterval) }
            return HTTPResponse(status: HTTPStatus(code: reply.status, reason: "Test"), body: Array(reply.body.utf8))
        }
        for method in [HTTPMethod.post, .get, .put, .patch, .delete] {
            router.add(method, "/{name}", handler)
        }
        var logger = Logger(label: "test.receiver")
        logger.logLevel = .critical
        server = HTTPServer(.init(host: "127.0.0.1", port: 0, workerThreads: 64), router: router, middleware: [], logger: logger)
        try server.start()
    }

    deinit { server.shutdown(gracePeriod: .seconds(1)) }

    public func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }
}
