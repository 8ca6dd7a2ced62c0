/// The rules of a connection pool, without the connections' I/O: who gets the next free
/// connection, when a new one may be opened, and what a timeout or a close does.
///
/// The caller feeds it an ``Event`` under a lock and performs the ``Action``s outside it:
/// delivering a ``Grant`` to a waiter, or closing connections the pool no longer keeps.
/// Waiters are served first come, first served; free connections last in, first out, so the
/// warmest is reused and surplus ones age out.
struct PoolState<Connection> {
    typealias WaiterID = UInt64

    /// What a waiter gets.
    enum Grant {
        /// Use this idle connection (idle since `idleSince`, nanoseconds on a monotonic clock);
        /// check it first, and report ``Event/discarded(_:)`` if it turns out dead.
        case reuse(Connection, idleSince: UInt64)
        /// A slot is reserved for you: open a connection, and report ``Event/openFailed(_:error:)`` if that fails.
        case open
        case fail(PostgresError)
    }

    enum Event {
        case requested(WaiterID)
        /// A borrower is done; `connection` is nil when it was broken and has been dropped.
        case returned(Connection?, now: UInt64)
        case openFailed(WaiterID, error: PostgresError)
        /// A reused connection failed its check and was dropped; the waiter still needs one.
        case discarded(WaiterID)
        /// The waiter gave up (its wait timed out, or its task was cancelled).
        case withdrawn(WaiterID, reason: PostgresError)
        case closed
    }

    enum Action {
        case grant(WaiterID, Grant)
        /// Connections the pool no longer holds; close them.
        case close([Connection])
    }

    struct IdleConnection {
        let connection: Connection
        let since: UInt64
    }

    let maximumConnections: Int
    private(set) var idle: [IdleConnection] = []
    /// Connections open or being opened, lent or idle.
    private(set) var openCount = 0
    private(set) var waiters: [WaiterID] = []
    private(set) var isClosed = false

    init(maximumConnections: Int) {
        precondition(maximumConnections > 0, "a pool needs at least one connection")
        self.maximumConnections = maximumConnections
    }

    var lentCount: Int { openCount - idle.count }

    mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .requested(let waiter):
            if isClosed { return [.grant(waiter, .fail(Self.closedError))] }
            if let free = idle.popLast() { return [.grant(waiter, .reuse(free.connection, idleSince: free.since))] }
            if openCount < maximumConnections {
                openCount += 1
                return [.grant(waiter, .open)]
            }
            waiters.append(waiter)
            return []

        case .returned(let connection, let now):
            guard let connection else { return replaceDroppedConnection() }
            if isClosed {
                openCount -= 1
                return [.close([connection])]
            }
            if !waiters.isEmpty { return [.grant(waiters.removeFirst(), .reuse(connection, idleSince: now))] }
            idle.append(IdleConnection(connection: connection, since: now))
            return []

        case .openFailed(let waiter, let error):
            // The slot is free again. The next waiter tries too rather than waiting out its
            // timeout: while the server is down every borrower learns why at once.
            var actions: [Action] = [.grant(waiter, .fail(error))]
            actions += replaceDroppedConnection()
            return actions

        case .discarded(let waiter):
            // The dropped connection's slot goes straight to the waiter who found it dead.
            if isClosed {
                openCount -= 1
                return [.grant(waiter, .fail(Self.closedError))]
            }
            return [.grant(waiter, .open)]

        case .withdrawn(let waiter, let reason):
            guard let position = waiters.firstIndex(of: waiter) else { return [] }  // already served
            waiters.remove(at: position)
            return [.grant(waiter, .fail(reason))]

        case .closed:
            isClosed = true
            let failed = waiters.map { Action.grant($0, .fail(Self.closedError)) }
            let closing = idle.map(\.connection)
            openCount -= idle.count
            idle = []
            waiters = []
            return failed + [.close(closing)]
        }
    }

    /// A connection slot was freed: give it to the next waiter, if any, to open a new one.
    private mutating func replaceDroppedConnection() -> [Action] {
        openCount -= 1
        guard !isClosed, !waiters.isEmpty else { return [] }
        openCount += 1
        return [.grant(waiters.removeFirst(), .open)]
    }

    static var closedError: PostgresError {
        PostgresError(kind: .poolClosed, message: "the connection pool is closed")
    }
}

extension PoolState.Grant: Sendable where Connection: Sendable {}
