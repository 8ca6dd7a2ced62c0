/// Everything that can go wrong talking to PostgreSQL, with a ``Kind`` to match on and, for errors
/// the server reported, its SQLSTATE and fields. It never carries parameter values, so it is safe
/// to log.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection could not be made; ``ConnectFailure`` says why.
        case connect(ConnectFailure)
        /// The connection broke (server restart, `pg_terminate_backend`, network); the statement's
        /// outcome is unknown and the connection is unusable.
        case connectionLost
        /// The server refused a statement; see ``sqlState``.
        case server
        /// A value read from a row could not become the Swift type asked for.
        case decoding
        /// A parameter cannot be sent as it is (a string with a NUL byte, which PostgreSQL text cannot hold).
        case invalidParameter
        /// No pooled connection became free within the pool's wait timeout.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
    }

    public enum ConnectFailure: Sendable, Equatable {
        /// Nothing answered at that address (refused, no such socket, timed out, unknown host).
        case unreachable
        /// The server refused the user or password.
        case authentication
        /// The server answered, but the database does not exist.
        case missingDatabase
        /// Anything else libpq reported; the message has its words.
        case other
    }

    public let kind: Kind
    /// The primary message: the server's, libpq's, or ours.
    public internal(set) var message: String
    /// The five-character SQLSTATE, for ``Kind/server`` errors and some lost connections.
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?
    /// 1-based character position in ``sql`` that the server pointed at.
    public var position: Int?
    /// The statement text with `$n` placeholders (never the values).
    public var sql: String?

    public init(kind: Kind, message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    public var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }
    public var isSerializationFailure: Bool {
        sqlState == SQLState.serializationFailure || sqlState == SQLState.deadlockDetected
    }
    public var isConnectionLost: Bool { kind == .connectionLost }
    /// The statement was cancelled: by `statement_timeout`, or by ``PostgresConnection/cancel()``.
    public var isQueryCanceled: Bool { sqlState == SQLState.queryCanceled }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        // PostgreSQL's "Failing row contains (...)" prints a whole row, secrets and all, into
        // whatever logs this description: it is left out (``detail`` still has it).
        if let detail { text += detail.hasPrefix("Failing row contains") ? "; detail: the failing row (not shown)" : "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        return text
    }
}

/// The SQLSTATE codes Kairos reacts to; the full list is in PostgreSQL's appendix A.
public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let checkViolation = "23514"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let syntaxError = "42601"
    public static let undefinedTable = "42P01"
    public static let undefinedColumn = "42703"
    public static let queryCanceled = "57014"
    public static let adminShutdown = "57P01"
    public static let readOnlySQLTransaction = "25006"
    public static let invalidCatalogName = "3D000"
    public static let invalidPassword = "28P01"
    public static let invalidAuthorization = "28000"

    /// Class 08 (connection exception) and the shutdown codes mean the session is gone.
    static func meansConnectionLost(_ code: String) -> Bool {
        code.hasPrefix("08") || code == adminShutdown || code == "57P02" || code == "57P03"
    }
}
