import Chronology
import Dispatch
import Logging
import Locking

/// A thread-safe pool of connections to one database.
///
/// - At most `maximumConnections` are open; a borrower beyond that waits, first come first
///   served, up to `acquireTimeout`, then gets a ``PostgresError/Kind/poolTimeout`` error. The
///   timeout covers everything before the borrower gets its connection: the wait, the check of
///   an idle one, and opening a new one.
/// - At most two connections are being opened at once, and for half a second after an open
///   failed, a borrower who would need a new one gets that failure at once (see ``PoolState``).
/// - A connection is checked before it is lent: anything the server sent while it sat idle is
///   read first (a terminated backend or restarted server has said goodbye), and one idle
///   longer than `idlePingInterval` must also answer `SELECT 1`. A dead one is replaced by a
///   new connection, so after a server restart the pool recovers by itself.
/// - A connection returned broken, or inside a transaction that cannot be rolled back, is closed.
///
/// ```swift
/// let pool = PostgresPool(configuration, maximumConnections: 8)
/// let count = try pool.withConnection { try $0.query("SELECT count(*) AS n FROM jobs")[0].decode(Int.self, column: "n") }
/// ```
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    public let maximumConnections: Int
    public let acquireTimeout: Duration
    public let idlePingInterval: Duration

    private typealias State = PoolState<PostgresConnection>
    private typealias Grant = State.Grant
    private typealias Deliver = @Sendable (Grant) -> Void

    private struct Shared {
        var state: State
        var nextWaiter: State.WaiterID = 0
        var deliveries: [State.WaiterID: Deliver] = [:]
    }

    private let shared: Locked<Shared>

    /// - Parameter failFastInterval: how long after a failed open borrowers needing a new
    ///   connection are told of that failure without an attempt of their own.
    public init(
        _ configuration: PostgresConfiguration, maximumConnections: Int = 10,
        acquireTimeout: Duration = .seconds(10), idlePingInterval: Duration = .seconds(30),
        failFastInterval: Duration = .milliseconds(500)
    ) {
        self.configuration = configuration
        self.maximumConnections = maximumConnections
        self.acquireTimeout = acquireTimeout
        self.idlePingInterval = idlePingInterval
        let failFast = UInt64(max(0, failFastInterval.microseconds)) * 1000
        shared = Locked(Shared(state: State(maximumConnections: maximumConnections, failFastInterval: failFast)))
    }

    /// An attempt to open that had less time than this when the borrower's deadline ended it
    /// says nothing about the server: it is not counted as the server's failure.
    static let shortestTellingAttempt: Duration = .milliseconds(250)

    deinit {
        close()
    }

    /// Counts at one instant, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Connections open or being opened.
        public let open: Int
        public let idle: Int
        /// Lent to borrowers now.
        public let inUse: Int
        /// Borrowers waiting for a connection.
        public let waiting: Int
    }

    public var statistics: Statistics {
        shared.withLock { shared in
            Statistics(
                open: shared.state.openCount, idle: shared.state.idle.count, inUse: shared.state.lentCount,
                waiting: shared.state.waiters.count)
        }
    }

    // MARK: Borrowing, blocking the calling thread

    /// Lends a connection to `body` and takes it back when `body` returns or throws. Blocks
    /// while waiting for a free connection, at most `timeout` (default: the pool's `acquireTimeout`).
    @discardableResult
    public func withConnection<T>(timeout: Duration? = nil, _ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire(timeout: timeout ?? acquireTimeout)
        defer { release(connection) }
        return try body(connection)
    }

    /// Runs `body` in a transaction on a pooled connection; see ``PostgresConnection/withTransaction(_:_:)``.
    @discardableResult
    public func withTransaction<T>(
        _ options: TransactionOptions = TransactionOptions(), _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try withConnection { connection in try connection.withTransaction(options, body) }
    }

    func acquire(timeout: Duration) throws(PostgresError) -> PostgresConnection {
        let deadline = ContinuousClock.now + timeout
        let slot = GrantSlot()
        let id = request { grant in slot.fill(grant) }
        return try resolve(awaitGrant(slot, waiter: id, until: deadline, timeout: timeout), waiter: id, deadline: deadline, timeout: timeout)
    }

    /// The grant for waiter `id`, or the timeout's failure once `deadline` passes first.
    private func awaitGrant(
        _ slot: GrantSlot, waiter id: State.WaiterID, until deadline: ContinuousClock.Instant, timeout: Duration
    ) -> Grant {
        if !slot.wait(timeout: max(.zero, ContinuousClock.now.duration(to: deadline))) {
            withdraw(id, reason: timeoutError(timeout))
            slot.wait()
        }
        return slot.grant!
    }

    /// Closes idle connections and fails every waiter; connections still lent are closed when
    /// returned. Borrowing afterwards fails with ``PostgresError/Kind/poolClosed``.
    public func close() {
        perform { state in state.handle(.closed) }
    }

    // MARK: Internals

    private func request(_ deliver: @escaping Deliver) -> State.WaiterID {
        var id: State.WaiterID = 0
        perform { state, shared in
            id = shared.nextWaiter
            shared.nextWaiter += 1
            shared.deliveries[id] = deliver
            return state.handle(.requested(id, now: DispatchTime.now().uptimeNanoseconds))
        }
        return id
    }

    private func withdraw(_ id: State.WaiterID, reason: PostgresError) {
        perform { state in state.handle(.withdrawn(id, reason: reason)) }
    }

    /// Turns a grant into a usable connection: checks a reused one, opens a new one.
    private func resolve(
        _ grant: Grant, waiter id: State.WaiterID, deadline: ContinuousClock.Instant, timeout: Duration
    ) throws(PostgresError) -> PostgresConnection {
        var grant = grant
        while true {
            switch grant {
            case .fail(let error):
                throw error
            case .reuse(let connection, let idleSince):
                guard ContinuousClock.now < deadline else {
                    // Granted as time ran out: the connection goes back unchecked, for the next.
                    release(connection)
                    throw timeoutError(timeout)
                }
                if isAlive(connection, idleSince: idleSince, deadline: deadline) { return connection }
                configuration.logger.debug("dropping a dead pooled connection", metadata: ["pid": "\(connection.backendPID)"])
                // The slot is the waiter's to open at once, or once fewer opens are under way.
                let slot = GrantSlot()
                perform { state, shared in
                    shared.deliveries[id] = { grant in slot.fill(grant) }
                    return state.handle(.discarded(id))
                }
                grant = awaitGrant(slot, waiter: id, until: deadline, timeout: timeout)
            case .open:
                let started = ContinuousClock.now
                guard started < deadline else {
                    perform { state in state.handle(.openAbandoned(id)) }
                    throw timeoutError(timeout)
                }
                do {
                    let connection = try PostgresConnection.connect(configuration, deadline: deadline)
                    perform { state in state.handle(.opened(id)) }
                    return connection
                } catch {
                    let cutShort = error.kind == .connect(.unreachable) && ContinuousClock.now >= deadline
                        && started.duration(to: deadline) < Self.shortestTellingAttempt
                    if cutShort {
                        perform { state in state.handle(.openAbandoned(id)) }
                        throw timeoutError(timeout)
                    }
                    let now = DispatchTime.now().uptimeNanoseconds
                    perform { state in state.handle(.openFailed(id, error: error, now: now)) }
                    throw error
                }
            }
        }
    }


    private func release(_ connection: PostgresConnection) {
        connection.rollbackQuietly()
        let reusable = connection.isConnected && connection.isIdle
        let now = DispatchTime.now().uptimeNanoseconds
        perform { state in state.handle(.returned(reusable ? connection : nil, now: now)) }
    }

    private func isAlive(_ connection: PostgresConnection, idleSince: UInt64, deadline: ContinuousClock.Instant) -> Bool {
        guard connection.readPendingInput() else { return false }
        let idleNanoseconds = DispatchTime.now().uptimeNanoseconds &- idleSince
        guard Double(idleNanoseconds) / 1e9 > idlePingInterval.timeInterval else { return true }
        return connection.ping(until: deadline)
    }

    private func timeoutError(_ timeout: Duration) -> PostgresError {
        PostgresError(
            kind: .poolTimeout,
            message: "no database connection became free within \(timeout) "
                + "(all \(maximumConnections) are in use or being opened); raise the pool size or find what holds them")
    }

    /// Applies an event and delivers the resulting grants outside the lock.
    private func perform(_ event: (inout State) -> [State.Action]) {
        perform { state, _ in event(&state) }
    }

    private func perform(_ event: (inout State, inout Shared) -> [State.Action]) {
        let (deliveries, closing) = shared.withLock { shared in
            var state = shared.state
            let actions = event(&state, &shared)
            shared.state = state
            return Self.split(actions, deliveries: &shared.deliveries)
        }
        _ = closing  // dropping the last references closes them
        for (deliver, grant) in deliveries { deliver(grant) }
    }

    private static func split(
        _ actions: [State.Action], deliveries: inout [State.WaiterID: Deliver]
    ) -> ([(Deliver, Grant)], [PostgresConnection]) {
        var ready: [(Deliver, Grant)] = []
        var closing: [PostgresConnection] = []
        for action in actions {
            switch action {
            case .grant(let id, let grant):
                if let deliver = deliveries.removeValue(forKey: id) { ready.append((deliver, grant)) }
            case .close(let connections):
                closing += connections
            }
        }
        return (ready, closing)
    }
}

/// Where a blocked borrower receives its grant.
private final class GrantSlot: @unchecked Sendable {
    // @unchecked: `grant` is written once, before `semaphore` is signalled, and read after the wait.
    private let semaphore = DispatchSemaphore(value: 0)
    private(set) var grant: PoolState<PostgresConnection>.Grant?

    func fill(_ grant: PoolState<PostgresConnection>.Grant) {
        self.grant = grant
        semaphore.signal()
    }

    /// False when `timeout` passed first.
    func wait(timeout: Duration) -> Bool {
        semaphore.wait(timeout: .now() + timeout.timeInterval) == .success
    }

    func wait() {
        semaphore.wait()
    }
}

