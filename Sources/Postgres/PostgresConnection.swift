import SQLBuilding
import CLibPQ
import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// One libpq connection, used synchronously: each call blocks until the server answers, or
/// until the statement's deadline, when the connection is closed as dead.
///
/// A connection serves one thread at a time: ``PostgresPool`` hands each to one borrower.
/// ``interrupt()`` alone may be called from any thread.
///
/// Every connection works in UTC with ISO dates (`TimeZone`, `DateStyle`), which the row decoders rely on.
///
/// Every exchange is bounded: opening by the connect timeout (and a pool's acquire deadline),
/// each statement by the `statement_timeout` in effect plus ``deadlineMargin(for:)``. The server cancels
/// a statement at its timeout and answers with SQLSTATE 57014; a server that has not answered by
/// the margin's end is unreachable (a partition drops packets without a reset, and TCP would
/// wait minutes), so the connection is closed and the statement fails as ``PostgresError/Kind/connectionLost``.
public final class PostgresConnection: @unchecked Sendable {
    // @unchecked: `handle` and `localStatementTimeout` are used by one thread at a time (see
    // above); `abandoned` is atomic and `socket` immutable, which is all ``interrupt()`` touches.
    let handle: OpaquePointer
    let logger: Logger
    /// The server process serving this connection, as `pg_stat_activity.pid` shows it.
    public let backendPID: Int32
    /// A duplicate of libpq's socket, owned here: libpq closes its own descriptor when a read
    /// fails, and the number is then reused by the next socket opened, so waiting on it or
    /// shutting it down (``interrupt()``) could reach someone else's. The duplicate keeps this
    /// connection's socket, and only it, until `deinit` closes it after `PQfinish`. What a
    /// Dispatch source watches (``PostgresListener``), for the same reason.
    let socket: Int32
    /// Set once the connection was closed from this side: by a deadline or ``interrupt()``.
    private let abandoned = Atomic<Bool>(false)
    /// The session's `statement_timeout`, from the configuration.
    let sessionStatementTimeout: Duration?
    /// A `statement_timeout` set for the current transaction or savepoint (`set_config(..., true)`),
    /// which the server drops when that ends; nil when none is in effect.
    var localStatementTimeout: Duration?
    /// Statements prepared on this connection, and those seen once (see ``query(_:deadline:)``).
    var prepared: [StatementKey: String] = [:]
    var seenOnce: Set<StatementKey> = []
    /// Names handed out, so one dropped is never reused.
    var preparedCount = 0
    /// A transaction's BEGIN not sent yet: it goes with the transaction's first statement, in
    /// the same round trip (see ``withTransaction(_:_:)``).
    var pendingBegin: SQL?
    /// Statements of the transaction under way held for its COMMIT's round trip (see
    /// ``executeAtCommit(_:)``).
    var atCommit: [SQL] = []
    /// Statements to run once it has committed, in the same round trip (see
    /// ``executeAfterCommit(_:)``).
    var afterCommit: [SQL] = []

    /// How long past its `statement_timeout` a statement's answer may take to arrive before the
    /// server counts as unreachable: the cancel's error is one small message away, but a loaded
    /// server or client may take a moment to send or read it, and closing a healthy connection
    /// for that would cost a reconnect when the database is busiest. Half a second, or a tenth
    /// of a long timeout.
    public static func deadlineMargin(for timeout: Duration) -> Duration {
        max(.milliseconds(500), timeout / 10)
    }

    private init(handle: OpaquePointer, socket: Int32, logger: Logger, statementTimeout: Duration?) {
        self.handle = handle
        self.socket = socket
        self.logger = logger
        sessionStatementTimeout = statementTimeout
        backendPID = PQbackendPID(handle)
    }

    deinit {
        PQfinish(handle)
        Glibc.close(socket)
    }

    /// Opens a connection and prepares its session (UTC, ISO dates, the search path, timeouts).
    ///
    /// - Parameter deadline: the latest the connection may be ready, besides the connect timeout.
    /// - Throws: ``PostgresError`` of kind ``PostgresError/Kind/connect(_:)`` saying whether the
    ///   server was unreachable, refused the credentials or lacks the database, with libpq's message.
    public static func connect(
        _ configuration: PostgresConfiguration, deadline: ContinuousClock.Instant? = nil
    ) throws(PostgresError) -> PostgresConnection {
        let limit = earlier(deadline, try configuration.connectTimeout().map { ContinuousClock.now + $0 })
        let keywords = configuration.connectionKeywords
        let started = withCStringArray(keywords.map(\.0)) { keys in
            withCStringArray(keywords.map(\.1)) { values in
                PQconnectStartParams(keys, values, 1)
            }
        }
        guard let handle = started else {
            throw PostgresError(kind: .connect(.other), message: "libpq could not allocate a connection")
        }
        do throws(PostgresError) {
            try completeConnection(handle, until: limit)
        } catch {
            PQfinish(handle)
            throw error
        }
        let socket = fcntl(PQsocket(handle), F_DUPFD_CLOEXEC, 0)
        guard PQsetnonblocking(handle, 1) == 0, socket >= 0 else {
            let message = socket < 0 ? String(cString: strerror(errno)) : errorText(PQerrorMessage(handle))
            if socket >= 0 { Glibc.close(socket) }
            PQfinish(handle)
            throw PostgresError(kind: .connect(.other), message: "could not connect to PostgreSQL: \(message)")
        }
        let connection = PostgresConnection(
            handle: handle, socket: socket, logger: configuration.logger, statementTimeout: configuration.statementTimeout)
        connection.installNoticeReceiver()
        // Setting the session up is part of opening: it has the same deadline.
        try connection.prepareSession(searchPath: configuration.searchPath, until: limit)
        return connection
    }

    /// Drives libpq's non-blocking connection sequence (TCP, TLS, authentication) to its end,
    /// waiting on the socket at most until `limit`, which libpq alone would not respect.
    private static func completeConnection(_ handle: OpaquePointer, until limit: ContinuousClock.Instant?) throws(PostgresError) {
        // libpq's contract: before the first poll, act as if it had asked for "writable".
        var step = PGRES_POLLING_WRITING
        while true {
            if PQstatus(handle) == CONNECTION_BAD || step == PGRES_POLLING_FAILED {
                let message = errorText(PQerrorMessage(handle))
                let failure = classifyConnectFailure(message, needsPassword: PQconnectionNeedsPassword(handle) != 0)
                throw PostgresError(kind: .connect(failure), message: "could not connect to PostgreSQL: \(message)")
            }
            if step == PGRES_POLLING_OK { return }
            let outcome = SocketWait.wait(
                socket: PQsocket(handle), readable: step == PGRES_POLLING_READING, writable: step == PGRES_POLLING_WRITING,
                until: limit)
            if outcome == .timedOut {
                let host = PQhost(handle).map { String(cString: $0) } ?? "?"
                let port = PQport(handle).map { String(cString: $0) } ?? "?"
                throw PostgresError(
                    kind: .connect(.unreachable),
                    message: "could not connect to PostgreSQL at \(host):\(port): timeout expired, no answer in time")
            }
            step = PQconnectPoll(handle)
        }
    }

    private static func earlier(_ a: ContinuousClock.Instant?, _ b: ContinuousClock.Instant?) -> ContinuousClock.Instant? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }

    /// libpq reports connection failures as text only (no SQLSTATE), so the kind is read from
    /// its wording, which has been stable across PostgreSQL versions.
    static func classifyConnectFailure(_ message: String, needsPassword: Bool) -> PostgresError.ConnectFailure {
        let lowered = message.lowercased()
        if needsPassword || lowered.contains("authentication failed") || lowered.contains("no password supplied")
            || lowered.contains("no pg_hba.conf entry") || lowered.contains("role \"") && lowered.contains("does not exist")
        {
            return .authentication
        }
        if lowered.contains("database \"") && lowered.contains("does not exist") { return .missingDatabase }
        let unreachable = [
            "connection refused", "no such file or directory", "could not translate host name",
            "timeout expired", "could not connect", "network is unreachable", "no route to host",
        ]
        if unreachable.contains(where: lowered.contains) { return .unreachable }
        return .other
    }

    private func prepareSession(searchPath: [SQLIdentifier]?, until deadline: ContinuousClock.Instant?) throws(PostgresError) {
        let path = searchPath.map { $0.map(\.quoted).joined(separator: ", ") }
        let timeout = sessionStatementTimeout.map { String(TransactionOptions.milliseconds($0)) } ?? "0"
        // The server's side of a dead peer (a partition, a killed process): its session, and the
        // row locks a transaction holds, go within seconds rather than when the kernel gives up
        // hours later. A session idle inside a transaction for 15 s is ended, its locks freed.
        // A running statement whose client has closed its connection (``interrupt()``) is
        // stopped within a second: client_connection_check_interval, PostgreSQL 14 and later.
        // Kairos's tables are read from memory, and PostgreSQL's default random_page_cost (4)
        // prices every index probe as a disk seek: on a jobs table of a thousand rows it sorted
        // the whole table to list 100 jobs in order (0.64 ms) rather than walk the primary key
        // (0.11 ms). Lowered to the usual figure for cached data, unless the operator set it.
        let statement: SQL = """
            SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO, YMD', false),
                   set_config('IntervalStyle', 'postgres', false), set_config('extra_float_digits', '3', false),
                   set_config('search_path', coalesce(\(path), current_setting('search_path')), false),
                   set_config('statement_timeout', \(timeout), false),
                   set_config('idle_in_transaction_session_timeout', '15s', false),
                   set_config('tcp_keepalives_idle', '5', false), set_config('tcp_keepalives_interval', '1', false),
                   set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', '5000', false),
                   CASE WHEN current_setting('server_version_num')::int >= 140000
                        THEN set_config('client_connection_check_interval', '1000', false) END,
                   CASE WHEN current_setting('random_page_cost') = '4' THEN set_config('random_page_cost', '1.1', false) END
            """
        try query(statement, deadline: deadline)
    }

    // MARK: Statements

    /// Runs one statement and returns its rows (empty for a statement that returns none).
    ///
    /// - Throws: ``PostgresError``: ``PostgresError/Kind/server`` with the SQLSTATE for a refused
    ///   statement, ``PostgresError/Kind/connectionLost`` when the connection broke.
    @discardableResult
    public func query(_ sql: SQL) throws(PostgresError) -> PostgresRows {
        try query(sql, deadline: nil)
    }

    /// `deadline` nil: the statement's own (its timeout and the margin).
    ///
    /// A statement seen a second time on this connection (same text, same parameter types) is
    /// prepared, and from then on only executed: the server parses and analyses it once, not
    /// at every call (on the flow board's short statements, most of the server's work). Up to
    /// ``mostPrepared`` per connection; one-off texts (`$filter` queries) stay unnamed. After
    /// five runs PostgreSQL may plan it once for all values (a generic plan): so a statement
    /// whose best plan depends on which values are NULL is written as one text per case
    /// instead (forcing a plan per run was measured: a quarter of the flow board's throughput).
    func query(_ sql: SQL, deadline: ContinuousClock.Instant?) throws(PostgresError) -> PostgresRows {
        if pendingBegin != nil { return try queries([sql])[0] }
        let (text, parameters) = sql.rendered()
        let key = StatementKey(text: text, types: parameters.map(\.type.oid))
        if let name = try preparedName(for: key, deadline: deadline) {
            let outsideTransaction = isIdle
            let sent = try withParameters(parameters, sql: text) { _, values in
                PQsendQueryPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
            }
            do {
                return try awaitAnswer(sent: sent == 1, sql: text, deadline: deadline)
            } catch let error where Self.invalidatesPrepared(error) {
                // A replica migrated a column's type under it, say: forgotten, and outside a
                // transaction (which the error would have aborted) run again unnamed at once.
                prepared[key] = nil
                guard outsideTransaction else { throw error }
                let sent = try withParameters(parameters, sql: text) { types, values in
                    PQsendQueryParams(handle, text, Int32(parameters.count), types, values, nil, nil, 0)
                }
                return try awaitAnswer(sent: sent == 1, sql: text, deadline: deadline)
            }
        }
        let sent = try withParameters(parameters, sql: text) { types, values in
            PQsendQueryParams(handle, text, Int32(parameters.count), types, values, nil, nil, 0)
        }
        return try awaitAnswer(sent: sent == 1, sql: text, deadline: deadline)
    }

    struct StatementKey: Hashable {
        let text: String
        let types: [UInt32]
    }

    /// The most statements one connection prepares.
    public static let mostPrepared = 256

    /// "cached plan must not change result type" (DDL changed what the statement returns) and
    /// "prepared statement does not exist": the name no longer stands for the statement.
    static func invalidatesPrepared(_ error: PostgresError) -> Bool {
        error.sqlState == "0A000" || error.sqlState == "26000"
    }

    /// The name `key` is prepared under, preparing it now if it was seen before; nil to send it
    /// unnamed. A statement the server refuses to prepare fails here, as it would have unnamed.
    private func preparedName(for key: StatementKey, deadline: ContinuousClock.Instant?) throws(PostgresError) -> String? {
        switch preparation(for: key) {
        case .prepared(let name):
            return name
        case .unnamed:
            return nil
        case .prepareNow(let name):
            let types = key.types.map { Oid($0) }
            let sent = types.withUnsafeBufferPointer { buffer in
                PQsendPrepare(handle, name, key.text, Int32(types.count), buffer.baseAddress)
            }
            _ = try awaitAnswer(sent: sent == 1, sql: key.text, deadline: deadline)
            preparedNow(key, as: name)
            return name
        }
    }

    enum Preparation {
        case prepared(String)
        /// Seen before and there is room: prepare it under this name, then ``preparedNow(_:as:)``.
        case prepareNow(String)
        /// Seen for the first time (or no room): send it unnamed.
        case unnamed
    }

    /// How to send `key`, counting it as seen.
    func preparation(for key: StatementKey) -> Preparation {
        if let name = prepared[key] { return .prepared(name) }
        guard prepared.count < Self.mostPrepared, seenOnce.contains(key) else {
            if seenOnce.count >= 4 * Self.mostPrepared { seenOnce.removeAll() }
            seenOnce.insert(key)
            return .unnamed
        }
        preparedCount += 1
        return .prepareNow("kairos_\(preparedCount)")
    }

    /// The server has prepared `key` as `name`.
    func preparedNow(_ key: StatementKey, as name: String) {
        prepared[key] = name
        seenOnce.remove(key)
    }

    /// What ``forEachRow(_:stopping:_:)`` does with the rest of a result when its body stops it.
    public enum Stopping: Sendable {
        /// Reads the rest of the rows and drops them: the connection, and the transaction it is
        /// in, stay usable. It costs the rest of the result.
        case draining
        /// Closes the connection (``interrupt()``): the statement ends now, on the server within a
        /// second, and the connection is lost. For a statement whose transaction nothing else needs.
        case closing
    }

    /// Runs one query and hands `body` its rows one at a time, as the server sends them, so a
    /// large result is never held whole (libpq's single-row mode). When `body` throws, the rest
    /// of the result goes as `stopping` says and the error is rethrown; a statement that fails
    /// after some rows throws its error.
    public func forEachRow(_ sql: SQL, stopping: Stopping = .draining, _ body: (PostgresRow) throws -> Void) throws {
        try sendPendingBegin()
        let (text, parameters) = sql.rendered()
        let sent = try withParameters(parameters, sql: text) { types, values in
            PQsendQueryParams(handle, text, Int32(parameters.count), types, values, nil, nil, 0) == 1
        }
        // Right after sending, as libpq requires; should it refuse, the rows come in one result,
        // which is still read correctly.
        if sent { _ = PQsetSingleRowMode(handle) }
        var stopped: (any Error)?
        var failure: OpaquePointer?
        defer { if let failure { PQclear(failure) } }
        do {
            try collectResults(sent: sent, sql: text, deadline: nil) { result in
                switch PQresultStatus(result) {
                case PGRES_SINGLE_TUPLE, PGRES_TUPLES_OK where stopped == nil && failure == nil:
                    let rows = PostgresRows(result)  // cleared when it goes
                    for row in rows where stopped == nil {
                        do { try body(row) } catch { stopped = error }
                    }
                    if stopped != nil, case .closing = stopping {
                        abandon()
                        return false  // the rows libpq has read ahead are not even parsed
                    }
                case PGRES_SINGLE_TUPLE, PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                    PQclear(result)
                default:
                    if failure == nil { failure = result } else { PQclear(result) }
                }
                return true
            }
        } catch {
            // Closing on purpose loses the connection: the body's reason is the one to report.
            if let stopped { throw stopped }
            throw error
        }
        // The body's reason first: it stopped reading, and the rows after it do not matter.
        if let stopped { throw stopped }
        if let failure { throw serverError(failure, sql: text) }
    }

    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: SQL) throws(PostgresError) -> Int {
        try query(sql).affectedRowCount
    }

    /// Runs several `;`-separated statements with no parameters, as a migration file holds them.
    /// They run as one implicit transaction unless the script has its own `BEGIN`/`COMMIT`.
    public func executeScript(_ script: SQL) throws(PostgresError) {
        let (text, parameters) = script.rendered()
        guard parameters.isEmpty else {
            throw PostgresError(kind: .invalidParameter, message: "a script cannot have bound parameters")
        }
        try sendPendingBegin()
        _ = try awaitAnswer(sent: PQsendQuery(handle, text) == 1, sql: text)
    }

    /// Whether the server answers `SELECT 1` by `deadline`; a connection that does not is closed.
    func ping(until deadline: ContinuousClock.Instant) -> Bool {
        (try? awaitAnswer(sent: PQsendQuery(handle, "SELECT 1") == 1, sql: "SELECT 1", deadline: deadline)) != nil
    }

    /// Ends the statement running on this connection, from any thread, by closing the
    /// connection: the statement fails as ``PostgresError/Kind/connectionLost`` at once, and the
    /// server stops it within a second (`client_connection_check_interval`). libpq's own
    /// `PQcancel` would open a second connection with no timeout, which hangs in a partition.
    /// The connection is not reusable afterwards; a pool replaces it.
    public func interrupt() {
        abandon()
    }

    // MARK: State

    /// False once the connection broke; a broken connection never recovers.
    public var isConnected: Bool { !abandoned.load(ordering: .acquiring) && PQstatus(handle) == CONNECTION_OK }

    /// True when no transaction is open (or failed and awaiting ROLLBACK), nor begun and waiting
    /// for its first statement.
    public var isIdle: Bool { PQtransactionStatus(handle) == PQTRANS_IDLE && pendingBegin == nil }

    /// Sends a transaction's BEGIN now, alone: for what cannot take it in the same trip.
    func sendPendingBegin() throws(PostgresError) {
        guard let begin = pendingBegin else { return }
        pendingBegin = nil
        try execute(begin)
    }

    /// True inside a transaction that a failed statement aborted: only ROLLBACK works now.
    public var isInFailedTransaction: Bool { PQtransactionStatus(handle) == PQTRANS_INERROR }

    /// Reads anything the server sent while the connection sat idle, without a round trip: a
    /// terminated backend or a restarted server has sent its goodbye and closed the socket.
    /// Returns false when the connection turns out to be dead.
    func readPendingInput() -> Bool {
        guard isConnected else { return false }
        // A goodbye arrives as an error message and then end-of-file; libpq sees the end only on
        // the read after the message, so read while the socket stays readable (a few rounds at most).
        for _ in 0..<4 {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { return true }
            guard PQconsumeInput(handle) == 1, isConnected else { return false }
            while let notification = PQnotifies(handle) { PQfreemem(notification) }
        }
        return isConnected
    }

    // MARK: Internals

    /// Sends what libpq buffered and collects the statement's results, as `PQexec` would (the
    /// first error, else the last result).
    private func awaitAnswer(
        sent: Bool, sql: String, deadline: ContinuousClock.Instant? = nil
    ) throws(PostgresError) -> PostgresRows {
        var kept: OpaquePointer?
        do throws(PostgresError) {
            try collectResults(sent: sent, sql: sql, deadline: deadline) { result in
                if let earlier = kept, PQresultStatus(earlier) == PGRES_FATAL_ERROR {
                    PQclear(result)
                } else {
                    if let earlier = kept { PQclear(earlier) }
                    kept = result
                }
                return true
            }
        } catch {
            if let kept { PQclear(kept) }
            throw error
        }
        return try checked(kept, sql: sql)
    }

    /// Sends what libpq buffered and hands each result of the statement to `take`, which owns
    /// it, never waiting past the deadline: `explicit`, else the statement's `statement_timeout`
    /// plus the margin. Past it the connection is closed and the statement fails.
    func collectResults(
        sent: Bool, sql: String, deadline explicit: ContinuousClock.Instant?, _ take: (OpaquePointer) -> Bool
    ) throws(PostgresError) {
        guard sent else { throw lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: sql) }
        let timeout = localStatementTimeout ?? sessionStatementTimeout
        // What the message will say was waited for: the statement's own bound, or a caller's deadline.
        let bound = explicit == nil ? timeout.map { $0 + Self.deadlineMargin(for: $0) } : nil
        let deadline = explicit ?? bound.map { ContinuousClock.now + $0 }
        try flushOutput(until: deadline, bound: bound, sql: sql)
        while true {
            try awaitInput(until: deadline, bound: bound, sql: sql)
            guard let result = PQgetResult(handle) else { break }
            // False: the caller closed the connection, and what libpq still holds goes with it.
            guard take(result) else { break }
        }
        // A transaction's or savepoint's own timeout ends with it (the server forgets it then).
        if isIdle { localStatementTimeout = nil }
    }

    private func flushOutput(until deadline: ContinuousClock.Instant?, bound: Duration?, sql: String) throws(PostgresError) {
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 { return }
            if flushed < 0 { throw lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: sql) }
            // libpq's advice: read while waiting to write, or a server blocked writing to us
            // (a notice, say) and we blocked writing to it would wait on each other forever.
            switch SocketWait.wait(socket: socket, readable: true, writable: true, until: deadline) {
            case .timedOut: throw unanswered(bound: bound, sql: sql)
            case .failed(let code): throw lostOrFailed(message: "poll failed: \(String(cString: strerror(code)))", sql: sql)
            case .ready(let readable, _):
                if readable, PQconsumeInput(handle) == 0 {
                    throw lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: sql)
                }
            }
        }
    }

    private func awaitInput(until deadline: ContinuousClock.Instant?, bound: Duration?, sql: String) throws(PostgresError) {
        while PQisBusy(handle) != 0 {
            switch SocketWait.wait(socket: socket, readable: true, writable: false, until: deadline) {
            case .timedOut: throw unanswered(bound: bound, sql: sql)
            case .failed(let code): throw lostOrFailed(message: "poll failed: \(String(cString: strerror(code)))", sql: sql)
            case .ready:
                // A read that finds the peer gone leaves libpq's error result for PQgetResult.
                if PQconsumeInput(handle) == 0 && PQstatus(handle) == CONNECTION_OK {
                    throw lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: sql)
                }
                if PQstatus(handle) != CONNECTION_OK { return }
            }
        }
    }

    /// The server has not answered by the deadline: the connection is closed as dead.
    /// - Parameter bound: how long was waited (the statement's timeout and margin), when known.
    private func unanswered(bound: Duration?, sql: String) -> PostgresError {
        abandon()
        let waited = bound.map { "within \(Self.seconds($0)) (its statement timeout and a margin)" } ?? "in time"
        var error = PostgresError(
            kind: .connectionLost,
            message: "PostgreSQL did not answer \(waited); the connection was closed: the server or the network to it is down")
        error.sql = sql
        return error
    }

    private static func seconds(_ duration: Duration) -> String {
        let value = duration.timeInterval
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    /// Shuts the socket down (once): whatever waits on it wakes, and libpq reads end-of-file.
    func abandon() {
        guard !abandoned.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    func checked(_ result: OpaquePointer?, sql: String) throws(PostgresError) -> PostgresRows {
        guard let result else {
            throw lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: sql)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(result)
        default:
            let error = serverError(result, sql: sql)
            PQclear(result)
            throw error
        }
    }

    func serverError(_ result: OpaquePointer, sql: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let message = interruption ?? field("M") ?? Self.errorText(PQresultErrorMessage(result))
        let lost = !isConnected || sqlState.map(SQLState.meansConnectionLost) == true
        var error = PostgresError(kind: lost ? .connectionLost : .server, message: message, sqlState: sqlState)
        error.detail = field("D")
        error.hint = field("H")
        error.constraint = field("n")
        error.table = field("t")
        error.column = field("c")
        error.position = field("P").flatMap { Int($0) }
        error.sql = sql
        return error
    }

    /// Once this side closed the connection, every failure it causes is that, not libpq's
    /// "server closed the connection unexpectedly".
    private var interruption: String? {
        abandoned.load(ordering: .acquiring) ? "the statement was interrupted: the connection was closed while it ran" : nil
    }

    func lostOrFailed(message: String, sql: String) -> PostgresError {
        let message = interruption ?? message
        var error = PostgresError(kind: isConnected ? .server : .connectionLost, message: message)
        error.sql = sql
        return error
    }

    /// Refuses a value PostgreSQL text cannot hold (a NUL) rather than let it be cut short.
    func checkParameters(_ parameters: [SQLValue], sql: String) throws(PostgresError) {
        for (index, parameter) in parameters.enumerated() where parameter.text?.utf8.contains(0) == true {
            var error = PostgresError(
                kind: .invalidParameter, message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot store")
            error.sql = sql
            throw error
        }
    }

    /// Lays the parameters out as C strings for one libpq call.
    func withParameters<R>(
        _ parameters: [SQLValue], sql: String,
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) throws(PostgresError) -> R {
        // One buffer holds every value, NUL-terminated; PostgreSQL text cannot contain NUL, so
        // a value with one is refused rather than silently cut short.
        try checkParameters(parameters, sql: sql)
        var storage: [CChar] = []
        var offsets: [Int?] = []
        for parameter in parameters {
            guard let text = parameter.text else {
                offsets.append(nil)
                continue
            }
            offsets.append(storage.count)
            storage.append(contentsOf: text.utf8.map { CChar(bitPattern: $0) })
            storage.append(0)
        }
        let types = parameters.map { Oid($0.type.oid) }
        return storage.withUnsafeBufferPointer { buffer in
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in offset.map { buffer.baseAddress! + $0 } }
            return types.withUnsafeBufferPointer { typeBuffer in
                values.withUnsafeBufferPointer { valueBuffer in
                    body(typeBuffer.baseAddress, valueBuffer.baseAddress)
                }
            }
        }
    }

    private func installNoticeReceiver() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        PQsetNoticeReceiver(handle, { context, result in
            guard let context, let result else { return }
            let connection = Unmanaged<PostgresConnection>.fromOpaque(context).takeUnretainedValue()
            let text = PostgresConnection.errorText(PQresultErrorMessage(result))
            connection.logger.debug("server notice", metadata: ["notice": "\(text)"])
        }, context)
    }

    static func errorText(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        let text = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "unknown error" : text
    }
}

/// Calls `body` with a NULL-terminated array of C strings, valid only during the call.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicates.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
