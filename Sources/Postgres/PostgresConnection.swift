import SQLBuilding
import CLibPQ
import Dispatch
import Foundation
import Glibc
import Logging

/// One libpq connection, used synchronously: each call blocks until the server answers.
///
/// A connection serves one thread at a time: ``PostgresPool`` hands each to one borrower.
/// ``cancel()`` alone may be called from any thread.
///
/// Every connection works in UTC with ISO dates (`TimeZone`, `DateStyle`), which the row decoders rely on.
public final class PostgresConnection: @unchecked Sendable {
    // @unchecked: `handle` is used by one thread at a time (see above); `cancelHandle` is
    // thread-safe by libpq's contract; the rest is immutable.
    let handle: OpaquePointer
    private let cancelHandle: OpaquePointer?
    let logger: Logger
    /// The server process serving this connection, as `pg_stat_activity.pid` shows it.
    public let backendPID: Int32

    private init(handle: OpaquePointer, logger: Logger) {
        self.handle = handle
        self.logger = logger
        cancelHandle = PQgetCancel(handle)
        backendPID = PQbackendPID(handle)
    }

    deinit {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        PQfinish(handle)
    }

    /// Opens a connection and prepares its session (UTC, ISO dates, the search path).
    ///
    /// - Throws: ``PostgresError`` of kind ``PostgresError/Kind/connect(_:)`` saying whether the
    ///   server was unreachable, refused the credentials or lacks the database, with libpq's message.
    public static func connect(_ configuration: PostgresConfiguration) throws(PostgresError) -> PostgresConnection {
        let keywords = configuration.connectionKeywords
        let handle = withCStringArray(keywords.map(\.0)) { keys in
            withCStringArray(keywords.map(\.1)) { values in
                PQconnectdbParams(keys, values, 1)
            }
        }
        guard let handle else {
            throw PostgresError(kind: .connect(.other), message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = errorText(PQerrorMessage(handle))
            let failure = classifyConnectFailure(message, needsPassword: PQconnectionNeedsPassword(handle) != 0)
            PQfinish(handle)
            throw PostgresError(kind: .connect(failure), message: "could not connect to PostgreSQL: \(message)")
        }
        let connection = PostgresConnection(handle: handle, logger: configuration.logger)
        connection.installNoticeReceiver()
        try connection.prepareSession(searchPath: configuration.searchPath)
        return connection
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

    private func prepareSession(searchPath: [SQLIdentifier]?) throws(PostgresError) {
        let path = searchPath.map { $0.map(\.quoted).joined(separator: ", ") }
        // The server's side of a dead peer (a partition, a killed process): its session, and the
        // row locks a transaction holds, go within seconds rather than when the kernel gives up
        // hours later. A session idle inside a transaction for 15 s is ended, its locks freed.
        try execute("""
            SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO, YMD', false),
                   set_config('IntervalStyle', 'postgres', false), set_config('extra_float_digits', '3', false),
                   set_config('search_path', coalesce(\(path), current_setting('search_path')), false),
                   set_config('idle_in_transaction_session_timeout', '15s', false),
                   set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),
                   set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', '10000', false)
            """)
    }

    // MARK: Statements

    /// Runs one statement and returns its rows (empty for a statement that returns none).
    ///
    /// - Throws: ``PostgresError``: ``PostgresError/Kind/server`` with the SQLSTATE for a refused
    ///   statement, ``PostgresError/Kind/connectionLost`` when the connection broke.
    @discardableResult
    public func query(_ sql: SQL) throws(PostgresError) -> PostgresRows {
        let (text, parameters) = sql.rendered()
        let result = try withParameters(parameters, sql: text) { types, values in
            PQexecParams(handle, text, Int32(parameters.count), types, values, nil, nil, 0)
        }
        return try checked(result, sql: text)
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
        _ = try checked(PQexec(handle, text), sql: text)
    }

    /// Asks the server to stop the statement running on this connection; it then fails with
    /// SQLSTATE 57014. Safe from any thread; does nothing when nothing runs.
    public func cancel() {
        guard let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        if PQcancel(cancelHandle, &buffer, Int32(buffer.count)) == 0 {
            let reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            logger.debug("cancel request failed", metadata: ["reason": "\(reason)"])
        }
    }

    // MARK: State

    /// False once the connection broke; a broken connection never recovers.
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// True when no transaction is open (or failed and awaiting ROLLBACK).
    public var isIdle: Bool { PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// True inside a transaction that a failed statement aborted: only ROLLBACK works now.
    public var isInFailedTransaction: Bool { PQtransactionStatus(handle) == PQTRANS_INERROR }

    /// Reads anything the server sent while the connection sat idle, without a round trip: a
    /// terminated backend or a restarted server has sent its goodbye and closed the socket.
    /// Returns false when the connection turns out to be dead.
    func readPendingInput() -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0, isConnected else { return false }
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

    private func checked(_ result: OpaquePointer?, sql: String) throws(PostgresError) -> PostgresRows {
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

    private func serverError(_ result: OpaquePointer, sql: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let message = field("M") ?? Self.errorText(PQresultErrorMessage(result))
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

    private func lostOrFailed(message: String, sql: String) -> PostgresError {
        var error = PostgresError(kind: isConnected ? .server : .connectionLost, message: message)
        error.sql = sql
        return error
    }

    /// Lays the parameters out as C strings for one libpq call.
    private func withParameters<R>(
        _ parameters: [SQLValue], sql: String,
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) throws(PostgresError) -> R {
        // One buffer holds every value, NUL-terminated; PostgreSQL text cannot contain NUL, so
        // a value with one is refused rather than silently cut short.
        var storage: [CChar] = []
        var offsets: [Int?] = []
        for (index, parameter) in parameters.enumerated() {
            guard let text = parameter.text else {
                offsets.append(nil)
                continue
            }
            if text.utf8.contains(0) {
                var error = PostgresError(
                    kind: .invalidParameter,
                    message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot store")
                error.sql = sql
                throw error
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
