/// The rules of a connection pool, without the connections' I/O: who gets the next free
/// connection, when a new one may be opened, and what a timeout or a close does.
///
/// The caller feeds it an ``Event`` under a lock and performs the ``Action``s outside it:
/// delivering a ``Grant`` to a waiter, or closing connections the pool no longer keeps.
/// Waiters are served first come, first served; free connections last in, first out, so the
/// warmest is reused and surplus ones age out.
///
/// Opening is bounded too: at most `maximumConcurrentOpens` at once (a server that stopped
/// answering would otherwise collect one hung attempt per borrower), and for `failFastInterval`
/// after an attempt failed, a borrower who would need a new connection is told why at once
/// instead of trying again: while the server is down, every caller learns it without waiting.
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
        /// `now`: nanoseconds on the monotonic clock, as for every event that carries it.
        case requested(WaiterID, now: UInt64)
        /// The connection granted with ``Grant/open`` is open and lent to its waiter.
        case opened(WaiterID)
        /// The waiter ran out of its own time before or while opening: the slot is free again,
        /// and the server is not to blame (no fail-fast).
        case openAbandoned(WaiterID)
        /// A borrower is done; `connection` is nil when it was broken and has been dropped.
        case returned(Connection?, now: UInt64)
        case openFailed(WaiterID, error: PostgresError, now: UInt64)
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
    let maximumConcurrentOpens: Int
    /// Nanoseconds after a failed open during which borrowers needing a new connection fail at once.
    let failFastInterval: UInt64
    private(set) var idle: [IdleConnection] = []
    /// Connections open or being opened, lent or idle.
    private(set) var openCount = 0
    /// Of those, the ones being opened now.
    private(set) var openingCount = 0
    private(set) var waiters: [WaiterID] = []
    private(set) var isClosed = false
    /// The last failed open and when it failed, while borrowers are still told of it.
    private(set) var recentOpenFailure: (error: PostgresError, at: UInt64)?

    init(maximumConnections: Int, maximumConcurrentOpens: Int = 2, failFastInterval: UInt64 = 500_000_000) {
        precondition(maximumConnections > 0, "a pool needs at least one connection")
        precondition(maximumConcurrentOpens > 0, "a pool must be allowed to open a connection")
        self.maximumConnections = maximumConnections
        self.maximumConcurrentOpens = maximumConcurrentOpens
        self.failFastInterval = failFastInterval
    }

    var lentCount: Int { openCount - idle.count }

    mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .requested(let waiter, let now):
            if isClosed { return [.grant(waiter, .fail(Self.closedError))] }
            if let free = idle.popLast() { return [.grant(waiter, .reuse(free.connection, idleSince: free.since))] }
            if let failure = recentOpenFailure, now &- failure.at >= failFastInterval { recentOpenFailure = nil }
            if let failure = recentOpenFailure, openCount < maximumConnections {
                return [.grant(waiter, .fail(Self.failingFast(failure.error, since: failure.at, now: now)))]
            }
            if canOpen {
                startOpening()
                return [.grant(waiter, .open)]
            }
            waiters.append(waiter)
            return []

        case .opened:
            openingCount -= 1
            recentOpenFailure = nil  // the server answers again
            return grantOpensToWaiters()

        case .openAbandoned:
            openingCount -= 1
            openCount -= 1
            return grantOpensToWaiters()

        case .returned(let connection, let now):
            guard let connection else { return replaceDroppedConnection() }
            if isClosed {
                openCount -= 1
                return [.close([connection])]
            }
            if !waiters.isEmpty { return [.grant(waiters.removeFirst(), .reuse(connection, idleSince: now))] }
            idle.append(IdleConnection(connection: connection, since: now))
            return []

        case .openFailed(let waiter, let error, let now):
            // Every waiter would try the same server and fail the same way: all learn why now,
            // and so does every borrower for the next moment, without an attempt of their own.
            openingCount -= 1
            openCount -= 1
            recentOpenFailure = (error, now)
            let failed = waiters.map { Action.grant($0, .fail(error)) }
            waiters = []
            return [.grant(waiter, .fail(error))] + failed

        case .discarded(let waiter):
            // The dropped connection's slot goes straight to the waiter who found it dead (it is
            // still counted as open): opening now, unless too many opens are under way.
            openCount -= 1
            if isClosed { return [.grant(waiter, .fail(Self.closedError))] }
            if canOpen {
                startOpening()
                return [.grant(waiter, .open)]
            }
            waiters.insert(waiter, at: 0)
            return []

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

    private var canOpen: Bool { openCount < maximumConnections && openingCount < maximumConcurrentOpens }

    private mutating func startOpening() {
        openCount += 1
        openingCount += 1
    }

    /// A connection slot was freed.
    private mutating func replaceDroppedConnection() -> [Action] {
        openCount -= 1
        return grantOpensToWaiters()
    }

    /// Gives waiters a new connection each, as far as the bounds on connections and opens allow.
    private mutating func grantOpensToWaiters() -> [Action] {
        var actions: [Action] = []
        while !isClosed, !waiters.isEmpty, canOpen {
            startOpening()
            actions.append(.grant(waiters.removeFirst(), .open))
        }
        return actions
    }

    static func failingFast(_ error: PostgresError, since failedAt: UInt64, now: UInt64) -> PostgresError {
        var error = error
        let milliseconds = (now &- failedAt) / 1_000_000
        error.message += " (the last attempt to connect failed \(milliseconds) ms ago; this call did not try again)"
        return error
    }

    static var closedError: PostgresError {
        PostgresError(kind: .poolClosed, message: "the connection pool is closed")
    }
}

extension PoolState.Grant: Sendable where Connection: Sendable {}
