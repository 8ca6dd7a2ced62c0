import Postgres

/// What a database error thrown by the store means to its caller, so the API can answer it
/// without knowing PostgreSQL's error codes.
public enum StoreFailure: Sendable, Equatable {
    /// The database cannot be reached or the pool has no connection for now: try again shortly.
    case unavailable
    /// A value the client sent that PostgreSQL cannot take (a string holding NUL, a JSON string
    /// holding \u0000); the message says which.
    case refusedValue(String)

    /// The meaning of `error`, or nil when it is not the client's fault nor a passing outage
    /// (a bug, or the database in trouble): report that as an internal error.
    public init?(_ error: any Error) {
        guard let error = error as? PostgresError else { return nil }
        switch error.kind {
        case .connect, .connectionLost, .poolTimeout, .poolClosed:
            self = .unavailable
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
