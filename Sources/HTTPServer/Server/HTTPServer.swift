import Chronology
import Dispatch
import Foundation
import Logging
import JSON
import Locking
import Synchronization

/// An HTTP/1.1 server on POSIX sockets and epoll.
///
/// ```swift
/// var router = Router()
/// router.add(.get, "/api/v1/liveness", execution: .inline) { _ in .json([:]) }
/// let server = HTTPServer(.init(host: "127.0.0.1", port: 0), router: router, logger: logger)
/// try server.start()                     // server.port is the bound port
/// server.shutdown(gracePeriod: .seconds(10))
/// ```
///
/// Connections are event-driven (non-blocking sockets on a few ``EventLoop`` threads, no thread
/// per connection); handlers run on a bounded pool of worker threads so that one waiting on the
/// database never stalls another connection.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var limits: HTTPLimits
        /// Threads that run handlers; the most requests handled at once.
        public var workerThreads: Int

        /// Four per core, at least eight. More only queue in the kernel instead: with sixteen on
        /// two cores, each holding a database backend busy too, `GET /jobs/{id}` at 16
        /// connections had a p99 of 237 ms; with eight, 16–34 ms for as many requests a second.
        /// A handler waiting on the database holds its thread, so a slow `$filter` expansion
        /// takes one of them (their number at once is bounded by `KAIROS_FILTER_CONCURRENCY`).
        public static let defaultWorkerThreads = max(8, 4 * ProcessInfo.processInfo.activeProcessorCount)

        public init(
            host: String = "127.0.0.1", port: Int = 34000, limits: HTTPLimits = HTTPLimits(),
            workerThreads: Int = Configuration.defaultWorkerThreads
        ) {
            self.host = host
            self.port = port
            self.limits = limits
            self.workerThreads = workerThreads
        }
    }

    public let configuration: Configuration
    private let context: ConnectionContext
    private let listener = Locked<Listener?>(nil)
    private let registry = ConnectionRegistry()
    private let logger: Logger

    public init(_ configuration: Configuration, router: Router, middleware: [Middleware] = [], logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let registry = registry
        context = ConnectionContext(
            limits: configuration.limits,
            responder: Responder(router: router, middleware: middleware, logger: logger),
            workers: WorkerPool(threads: configuration.workerThreads, name: "kairos-http-worker"),
            logger: logger,
            closed: { registry.remove($0) })
    }

    /// Binds and starts accepting; returns at once.
    ///
    /// - Throws: ``SocketError`` when the address cannot be resolved or bound.
    public func start() throws(SocketError) {
        let listener = try Listener(host: configuration.host, port: configuration.port)
        self.listener.withLock { $0 = listener }
        let context = context
        let registry = registry
        let logger = logger
        let maximum = configuration.limits.maximumConnections
        let perClient = configuration.limits.maximumConnectionsPerClient
        // A client in a connect loop is refused as fast as it connects: a log line a second says so.
        let refusals = OncePerSecond()
        listener.start(
            accepted: { fd, peer in
                switch registry.admit(peer, maximum: maximum, perClient: perClient) {
                case .admitted:
                    Socket.disableNagle(fd)
                    let connection = Connection(fd: fd, peer: peer, context: context)
                    registry.add(connection)
                    connection.start()
                case .full:
                    Self.refuse(fd, "too many open connections; try again later")
                    if refusals.shouldLog() { logger.warning("connections refused: at the limit", metadata: ["open": "\(maximum)"]) }
                case .fullForClient:
                    Self.refuse(fd, "too many open connections from your address; close some and try again")
                    if refusals.shouldLog() {
                        logger.warning("connections refused: at the limit for an address", metadata: ["client": "\(peer)", "open": "\(perClient)"])
                    }
                }
            },
            onError: { error in logger.error("accept failed", metadata: ["error": "\(error)"]) })
        logger.debug("listening", metadata: ["host": "\(configuration.host)", "port": "\(listener.port)"])
    }

    /// The bound port (the one the kernel picked when configured with 0); nil before ``start()``.
    public var port: Int? { listener.withLock { $0?.port } }

    /// Connections open now.
    public var openConnections: Int { registry.count }

    /// Stops accepting, closes idle connections, lets requests under way finish (their responses
    /// say `Connection: close`) until `gracePeriod` ends, then closes what is left. Blocks until done.
    public func shutdown(gracePeriod: Duration = .seconds(10)) {
        listener.withLock { listener in
            listener?.stop()
            listener = nil
        }
        for connection in registry.all { connection.drain() }
        if !registry.waitUntilEmpty(timeout: gracePeriod.timeInterval) {
            logger.warning("closing connections still busy after the grace period", metadata: ["open": "\(registry.count)"])
            for connection in registry.all { connection.forceClose() }
            _ = registry.waitUntilEmpty(timeout: 5)
        }
        context.workers.stop()
        context.stopLoops()
    }

    /// One best-effort write of a canned 503 to a connection over a limit, then close.
    private static func refuse(_ fd: Int32, _ message: String) {
        let body = JSONValue.object(["error": .string(message)]).serialized()
        let response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\nRetry-After: 1\r\n\r\n\(body)"
        _ = Array(response.utf8).withUnsafeBytes { Socket.write(fd, $0) }
        Socket.shutdownWrite(fd)
        Socket.close(fd)
    }
}

/// True at most once a second, for log lines that a flood would otherwise repeat.
final class OncePerSecond: Sendable {
    private let last = Atomic<UInt64>(0)

    func shouldLog() -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        let previous = last.load(ordering: .relaxed)
        guard now &- previous >= 1_000_000_000 || previous == 0 else { return false }
        return last.compareExchange(expected: previous, desired: now, ordering: .relaxed).exchanged
    }
}

/// The open connections, for the connection limit and shutdown.
final class ConnectionRegistry: @unchecked Sendable {
    // @unchecked: `connections` and `perClient` are guarded by `condition`.
    private let condition = NSCondition()
    private var connections: [ObjectIdentifier: Connection] = [:]
    /// Slots taken, by connections open and admitted ones about to be added.
    private var admitted = 0
    private var perClient: [PeerAddress: Int] = [:]

    var count: Int { condition.withLock { admitted } }
    var all: [Connection] { condition.withLock { Array(connections.values) } }

    enum Admission { case admitted, full, fullForClient }

    /// Takes a slot for a connection from `peer` unless `maximum` are taken, or `perClient`
    /// by that address; an admitted connection is then ``add(_:)``ed and later ``remove(_:)``d.
    func admit(_ peer: PeerAddress, maximum: Int, perClient limit: Int) -> Admission {
        condition.withLock {
            guard admitted < maximum else { return .full }
            guard perClient[peer, default: 0] < limit else { return .fullForClient }
            admitted += 1
            perClient[peer, default: 0] += 1
            return .admitted
        }
    }

    func add(_ connection: Connection) {
        condition.withLock { connections[ObjectIdentifier(connection)] = connection }
    }

    func remove(_ connection: Connection) {
        condition.withLock {
            guard connections.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
            admitted -= 1
            let left = perClient[connection.peer, default: 1] - 1
            perClient[connection.peer] = left > 0 ? left : nil
            if connections.isEmpty { condition.broadcast() }
        }
    }

    /// False when connections remain after `timeout` seconds.
    func waitUntilEmpty(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while !connections.isEmpty {
                if !condition.wait(until: deadline) { return connections.isEmpty }
            }
            return true
        }
    }
}
