import SQLBuilding
import CLibPQ
import Dispatch
import Locking

/// Receives `NOTIFY`s on a connection of its own, without polling: a Dispatch read source on the
/// connection's socket wakes it when the server sends something.
///
/// When the connection breaks it reconnects with backoff (0.1 s doubling to 5 s), `LISTEN`s
/// again and reports ``Event/connected(isReconnect:)``: notifications sent while it was away
/// are lost, so a consumer should re-read whatever state the notifications announce.
///
/// ```swift
/// let listener = try PostgresListener(configuration, channels: ["kairos_jobs"], queue: .main) { event in
///     if case .notification(let note) = event { print(note.channel, note.payload) }
/// }
/// listener.start()
/// ```
public final class PostgresListener: @unchecked Sendable {
    // @unchecked: every mutable property is touched only on `ioQueue`, but `stopped`, a Locked.

    public struct Notification: Sendable, Equatable {
        public let channel: String
        public let payload: String
        /// The server process that sent it; compare with a connection's `backendPID` to skip your own.
        public let senderPID: Int32
    }

    public enum Event: Sendable {
        /// Listening on every channel; `isReconnect` after a connection loss.
        case connected(isReconnect: Bool)
        case notification(Notification)
        /// The connection failed or broke; a reconnect is scheduled.
        case disconnected(PostgresError)
    }

    public let channels: [SQLIdentifier]
    private let configuration: PostgresConfiguration
    private let deliveryQueue: DispatchQueue
    private let handler: @Sendable (Event) -> Void
    private let ioQueue = DispatchQueue(label: "kairos.postgres.listener")

    private var connection: PostgresConnection?
    private var source: DispatchSourceRead?
    private var hasConnectedBefore = false
    private var failedAttempts = 0
    private var isStopped = false
    /// Read at delivery time, so nothing is delivered once ``stop()`` has returned.
    private let stopped = Locked(false)

    /// - Parameters:
    ///   - channels: channel names, each a valid ``SQLIdentifier``.
    ///   - queue: where `handler` is called, in order.
    /// - Throws: ``SQLIdentifierError`` for an invalid channel name.
    public init(
        _ configuration: PostgresConfiguration, channels: [String], queue: DispatchQueue,
        handler: @escaping @Sendable (Event) -> Void
    ) throws(SQLIdentifierError) {
        self.channels = try channels.map { (name) throws(SQLIdentifierError) in try SQLIdentifier(validating: name) }
        self.configuration = configuration
        deliveryQueue = queue
        self.handler = handler
    }

    /// Connects and listens; returns at once, events follow on the delivery queue.
    public func start() {
        ioQueue.async { self.connect() }
    }

    /// Stops listening and closes the connection; no event follows once this returns.
    public func stop() {
        stopped.withLock { $0 = true }
        ioQueue.sync {
            isStopped = true
            source?.cancel()
            source = nil
        }
    }

    deinit {
        source?.cancel()
    }

    private func connect() {
        guard !isStopped else { return }
        do {
            let connection = try PostgresConnection.connect(configuration)
            for channel in channels { try connection.execute("LISTEN \(channel)") }
            self.connection = connection
            watch(connection)
            failedAttempts = 0
            deliver(.connected(isReconnect: hasConnectedBefore))
            hasConnectedBefore = true
            drain()
        } catch {
            lost(error)
        }
    }

    private func watch(_ connection: PostgresConnection) {
        let source = DispatchSource.makeReadSource(fileDescriptor: connection.socket, queue: ioQueue)
        source.setEventHandler { [unowned self] in self.drain() }
        // The socket must stay open until Dispatch has stopped watching it: the connection is
        // released only in the cancel handler.
        source.setCancelHandler { withExtendedLifetime(connection) {} }
        self.source = source
        source.resume()
    }

    private func drain() {
        guard let connection, !isStopped else { return }
        let consumed = PQconsumeInput(connection.handle) == 1
        while let note = PQnotifies(connection.handle) {
            let notification = Notification(
                channel: String(cString: note.pointee.relname), payload: String(cString: note.pointee.extra),
                senderPID: note.pointee.be_pid)
            PQfreemem(note)
            deliver(.notification(notification))
        }
        guard consumed, connection.isConnected else {
            lost(PostgresError(kind: .connectionLost, message: PostgresConnection.errorText(PQerrorMessage(connection.handle))))
            return
        }
    }

    private func lost(_ error: Error) {
        source?.cancel()
        source = nil
        connection = nil
        let postgresError = error as? PostgresError ?? PostgresError(kind: .connectionLost, message: "\(error)")
        if failedAttempts == 0 { deliver(.disconnected(postgresError)) }
        let delay = min(5.0, 0.1 * Double(1 << min(failedAttempts, 6)))
        failedAttempts += 1
        configuration.logger.debug(
            "listener reconnecting", metadata: ["delay_s": "\(delay)", "error": "\(postgresError)"])
        ioQueue.asyncAfter(deadline: .now() + delay) { [weak self] in self?.connect() }
    }

    private func deliver(_ event: Event) {
        guard !isStopped else { return }
        let handler = handler
        deliveryQueue.async {
            if !self.stopped.withLock({ $0 }) { handler(event) }
        }
    }
}
