import Postgres

/// What a database error thrown by the store means to its caller, so the API can answer it
/// without knowing PostgreSQL's error codes.
public enum StoreFailure: Sendable, Equatable {
    /// The database cannot be reached or the pool has no connection for now: try again shortly.
    /// The reason says which, in words safe to show any caller (no host, port or user).
    case unavailable(reason: String)
    /// A value the client sent that PostgreSQL cannot take (a string holding NUL, a JSON string
    /// holding \u0000); the message says which.
    case refusedValue(String)

    /// The meaning of `error`, or nil when it is not the client's fault nor a passing outage
    /// (a bug, or the database in trouble): report that as an internal error.
    public init?(_ error: any Error) {
        guard let error = error as? PostgresError else { return nil }
        switch error.kind {
        case .connect:
            self = .unavailable(reason: "the database cannot be reached")
        case .connectionLost:
            self = .unavailable(reason: "the connection to the database was lost or it stopped answering")
        case .poolTimeout:
            self = .unavailable(reason: "no database connection could be had in time: the database is slow or unreachable, or the service is busy")
        case .poolClosed:
            self = .unavailable(reason: "the service is shutting down")
        // A deadlock or a serialization failure: a concurrent change won; the same call may succeed.
        case .server where error.sqlState == "40P01" || error.sqlState == "40001":
            self = .unavailable(reason: "a concurrent change to the same data conflicted with this one")
        // statement_timeout: the database is too busy, or a lock is held, for now.
        case .server where error.isQueryCanceled:
            self = .unavailable(reason: "the database did not finish in time (its statement timeout); it is busy or the data is locked")
        case .invalidParameter:
            self = .refusedValue(error.message)
        // Class 22, data exceptions: a value PostgreSQL cannot store.
        case .server where error.sqlState?.hasPrefix("22") == true:
            self = .refusedValue("a value was refused by the database: \(error.message)")
        default:
            return nil
        }
    }
}
