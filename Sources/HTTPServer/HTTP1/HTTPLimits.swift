import Synchronization

/// What one client may send and how long it may take; each limit has its status.
public struct HTTPLimits: Sendable, Equatable {
    /// Bytes in the request line; a longer one gets 414 (its target is what is long).
    public var maximumRequestLineBytes = 8 * 1024
    /// Bytes in the whole head, request line and header fields; more gets 431.
    public var maximumHeaderBytes = 16 * 1024
    /// Header fields in a head; more gets 431.
    public var maximumHeaderCount = 100
    /// Bytes of body, decoded; more gets 413, before any body is read when the length is declared.
    public var maximumBodyBytes = 1024 * 1024
    /// From a request's first byte to its last header, and for a new connection from its accept
    /// (so one that never sends a byte cannot hold a slot); then 408 and close (stops slowloris).
    public var headerTimeout: Duration = .seconds(10)
    /// From the end of the head to the body's last byte; then 408 and close.
    public var bodyTimeout: Duration = .seconds(30)
    /// An open connection with no request under way is closed after this.
    public var idleTimeout: Duration = .seconds(60)
    /// A response the client does not read within this is abandoned and the connection closed.
    public var writeTimeout: Duration = .seconds(30)
    /// Open connections; one more is answered 503 and closed.
    public var maximumConnections = 4096
    /// Open connections from one client address; one more is answered 503 and closed, so one
    /// address cannot take every slot from the others.
    public var maximumConnectionsPerClient = 256
    /// Routes that take bodies larger than ``maximumBodyBytes`` (a bulk upload), by method and
    /// exact path; such a body must declare its `Content-Length`.
    public var largeBodyRoutes: [LargeBodyRoute] = []
    /// Bytes of larger-than-usual bodies all connections together may be receiving or handling
    /// at once; a body that would pass it gets 503 and may be sent again shortly, so many large
    /// uploads cannot take the memory.
    public var maximumLargeBodyBytesInFlight = 64 * 1024 * 1024

    public init() {}

    /// The largest body a request of `method` to `path` may have.
    public func maximumBodyBytes(method: HTTPMethod, path: String) -> Int {
        largeBodyRoutes.first { $0.method == method && $0.path == path }.map { max($0.maximumBytes, maximumBodyBytes) } ?? maximumBodyBytes
    }
}

/// A route that takes a larger body than the server's usual limit.
public struct LargeBodyRoute: Sendable, Equatable {
    public var method: HTTPMethod
    public var path: String
    public var maximumBytes: Int

    public init(_ method: HTTPMethod, _ path: String, maximumBytes: Int) {
        self.method = method
        self.path = path
        self.maximumBytes = maximumBytes
    }
}

/// The bytes of larger-than-usual bodies in flight, shared by a server's connections.
public final class LargeBodyBudget: Sendable {
    public let capacity: Int
    private let used = Atomic<Int>(0)

    public init(capacity: Int) { self.capacity = capacity }

    public var bytesInUse: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` if they fit.
    public func reserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while current + bytes <= capacity {
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    public func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .acquiringAndReleasing)
    }
}
