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

    public init() {}
}
