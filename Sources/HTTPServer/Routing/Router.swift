/// Answers one request. Runs on a worker thread, where blocking (on PostgreSQL, say) is fine,
/// unless the route was added with ``Execution/inline``. Throw ``HTTPError`` for a client error.
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Where a handler runs.
public enum Execution: Sendable {
    /// On the bounded worker pool: the default, for anything that may wait.
    case worker
    /// On the connection's own queue, skipping a thread hop: only for handlers that never
    /// block, such as liveness, which must answer even when every worker is busy.
    case inline
}

/// Method and path patterns to handlers. The path is resolved first, then the method: a known
/// path asked with another method is 405 with `Allow`; an unknown path is 404. `HEAD` is served
/// by the `GET` route and `OPTIONS` answered with `Allow`, unless a route claims them.
public struct Router: Sendable {
    public struct Route: Sendable {
        public let method: HTTPMethod
        public let pattern: RoutePattern
        public let execution: Execution
        let handler: HTTPHandler
    }

    public enum Resolution: Sendable {
        case route(Route, parameters: [String: String])
        /// `route`: the template of the path's most specific pattern, for logs and metrics.
        case methodNotAllowed(allowed: [HTTPMethod], route: String)
        /// `route`: as for ``methodNotAllowed(allowed:route:)``; nil for `OPTIONS *`.
        case options(allowed: [HTTPMethod], route: String?)
        case notFound
    }

    public private(set) var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, execution: Execution = .worker, _ handler: @escaping HTTPHandler) {
        routes.append(Route(method: method, pattern: RoutePattern(pattern), execution: execution, handler: handler))
    }

    public func resolve(method: HTTPMethod, path: [String]) -> Resolution {
        // `OPTIONS *` asks about the server as a whole.
        if method == .options && path.isEmpty { return .options(allowed: Self.allow(Set(routes.map(\.method))), route: nil) }
        // HEAD is served by GET unless a route claims HEAD itself.
        let wanted = method == .head && !routes.contains { $0.method == .head && $0.pattern.match(path) != nil } ? HTTPMethod.get : method
        var best: (route: Route, parameters: [String: String])?
        var closest: RoutePattern?
        for route in routes {
            guard let parameters = route.pattern.match(path) else { continue }
            if closest == nil || route.pattern.specificity > closest!.specificity { closest = route.pattern }
            if route.method == wanted && (best == nil || route.pattern.specificity > best!.route.pattern.specificity) {
                best = (route, parameters)
            }
        }
        if let best { return .route(best.route, parameters: best.parameters) }
        guard let closest else { return .notFound }
        let allowed = Self.allow(Set(routes.filter { $0.pattern.match(path) != nil }.map(\.method)))
        return method == .options
            ? .options(allowed: allowed, route: closest.template) : .methodNotAllowed(allowed: allowed, route: closest.template)
    }

    /// The methods to list in `Allow`: those routed, plus HEAD where GET is, plus OPTIONS.
    private static func allow(_ methods: Set<HTTPMethod>) -> [HTTPMethod] {
        var all = methods
        if all.contains(.get) { all.insert(.head) }
        all.insert(.options)
        let order: [HTTPMethod] = [.get, .head, .post, .put, .patch, .delete, .options]
        return order.filter(all.contains) + all.filter { !order.contains($0) }.sorted { $0.name < $1.name }
    }
}
