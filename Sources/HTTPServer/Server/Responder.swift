import Logging
import Synchronization

/// Routing, middleware and error mapping around one request: what a connection asks the server
/// to do with a parsed request.
struct Responder: Sendable {
    let router: Router
    let middleware: [Middleware]
    let logger: Logger

    /// A resolved request: where it must run, and the work that answers it.
    struct Prepared: Sendable {
        let execution: Execution
        let request: HTTPRequest
        let run: @Sendable () -> HTTPResponse
        /// Handles it again after its handler parked it.
        let resume: @Sendable () -> HTTPResponse
        /// Answers a parked request with `response`, through the middleware, without its handler.
        let conclude: @Sendable (HTTPResponse) -> HTTPResponse
    }

    func prepare(_ request: HTTPRequest) -> Prepared {
        var request = request
        request.id = Self.requestID(from: request.headers["X-Request-Id"])
        let terminal: HTTPHandler
        var execution = Execution.inline
        switch router.resolve(method: request.method, path: request.pathSegments) {
        case .route(let route, let parameters):
            request.parameters = parameters
            request.route = route.pattern.template
            terminal = route.handler
            execution = route.execution
        case .notFound:
            terminal = { request in throw HTTPError(.notFound, "no route for \(request.method) \(request.path)") }
        case .methodNotAllowed(let allowed, let route):
            request.route = route
            let list = allowed.map(\.name).joined(separator: ", ")
            terminal = { request in
                var error = HTTPError(.methodNotAllowed, "\(request.method) is not allowed on \(request.path); use \(list)")
                error.headers = ["Allow": list]
                throw error
            }
        case .options(let allowed, let route):
            request.route = route
            let list = allowed.map(\.name).joined(separator: ", ")
            terminal = { _ in HTTPResponse(status: .noContent, headers: ["Allow": list]) }
        }
        let prepared = request
        var resumed = request
        resumed.isResumed = true
        return Prepared(
            execution: execution, request: prepared, run: { respond(prepared, terminal) }, resume: { [resumed] in respond(resumed, terminal) },
            conclude: { [resumed] response in respond(resumed) { _ in response } })
    }

    private func respond(_ request: HTTPRequest, _ terminal: HTTPHandler) -> HTTPResponse {
        var response = run(layer: 0, request, terminal)
        response.headers.set("X-Request-Id", request.id)
        return response
    }

    /// Middleware `layer` and everything inside it; errors of each layer become responses
    /// before the layer outside sees them.
    private func run(layer: Int, _ request: HTTPRequest, _ terminal: HTTPHandler) -> HTTPResponse {
        guard layer < middleware.count else { return catching(request) { try terminal(request) } }
        return catching(request) {
            try middleware[layer](request) { inner in run(layer: layer + 1, inner, terminal) }
        }
    }

    /// ``HTTPError``s become their response; anything else a 500 naming only the request id.
    private func catching(_ request: HTTPRequest, _ body: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch let error as HTTPError {
            var response = HTTPResponse.error(error.status, error.message)
            for (name, value) in error.headers { response.headers.set(name, value) }
            return response
        } catch {
            logger.error(
                "request failed", metadata: ["request.id": "\(request.id)", "route": "\(request.route ?? "-")", "error": "\(error)"])
            return .error(.internalServerError, "internal error; the server log has the details under request id \(request.id)")
        }
    }

    private static let prefix = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
    private static let counter = Atomic<UInt64>(0)

    /// The client's `X-Request-Id` when it is short and plain, else a new process-unique one.
    static func requestID(from header: String?) -> String {
        if let header, (1...64).contains(header.utf8.count),
            header.utf8.allSatisfy({ HeadParser.isTokenByte($0) && $0 != UInt8(ascii: "%") })
        {
            return header
        }
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(number, radix: 16)
    }
}
