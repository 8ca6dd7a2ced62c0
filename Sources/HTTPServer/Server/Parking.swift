/// A handler's "not yet", for a long poll: the connection keeps the request while holding no
/// thread, until the wake that ``register`` hands out is called or ``wait`` has passed; then it
/// handles the request again, through every middleware, with ``HTTPRequest/isResumed`` set (the
/// handler decides whether to answer or park once more). Should the client hang up meanwhile,
/// the request is dropped and the registration cancelled; should the server drain, ``fallback``
/// is answered at once.
///
/// ```swift
/// return .park(for: .seconds(30), fallback: { .json(["flows": []]) }) { wake in
///     waiters.add(wake)               // call wake() when there may be something to answer
///     return { waiters.remove(wake) } // called once the request no longer waits
/// }
/// ```
public struct Parking: Sendable {
    /// How long to wait before handling the request again anyway.
    public var wait: Duration
    /// The answer when the request must end without waiting longer (the server is draining).
    public var fallback: @Sendable () -> HTTPResponse
    /// Registers the request's wake (callable from any thread, any number of times; only the
    /// first call counts); returns what cancels the registration, called once it no longer waits.
    public var register: @Sendable (_ wake: @escaping @Sendable () -> Void) -> @Sendable () -> Void

    public init(
        wait: Duration, fallback: @escaping @Sendable () -> HTTPResponse,
        register: @escaping @Sendable (_ wake: @escaping @Sendable () -> Void) -> @Sendable () -> Void
    ) {
        self.wait = wait
        self.fallback = fallback
        self.register = register
    }
}

extension HTTPResponse {
    /// A response that is not one yet: see ``Parking``. Middleware sees it pass (and should not
    /// log it as an answer: ``isParked``); the client never does.
    public static func park(
        for wait: Duration, fallback: @escaping @Sendable () -> HTTPResponse,
        register: @escaping @Sendable (_ wake: @escaping @Sendable () -> Void) -> @Sendable () -> Void
    ) -> HTTPResponse {
        var response = HTTPResponse(status: .ok)
        response.parking = Parking(wait: wait, fallback: fallback, register: register)
        return response
    }

    public var isParked: Bool { parking != nil }
}
