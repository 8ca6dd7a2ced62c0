import SQLBuilding
import Logging

/// Where and how to connect.
///
/// ```swift
/// var configuration = PostgresConfiguration("postgresql://kairos:secret@127.0.0.1:54320/kairos")
/// configuration.searchPath = [try SQLIdentifier(validating: "test_4f2a")]
/// let connection = try PostgresConnection.connect(configuration)
/// ```
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string: keyword form (`host=/run/pg dbname=kairos`) or a URI
    /// (`postgresql://user:pass@host:port/db?sslmode=disable`). Unset parts fall back to libpq's
    /// environment variables (`PGHOST`, `PGUSER`, ...).
    public var connectionString: String
    /// Schemas to search, first one first; nil keeps the server's default. Tests use this to
    /// give each test case its own schema.
    public var searchPath: [SQLIdentifier]?
    /// Reported in `pg_stat_activity` unless the connection string names its own.
    public var applicationName: String = "kairos"
    /// Seconds a connection attempt may take, unless the string sets `connect_timeout`; a pool
    /// also bounds it by what is left of its acquire timeout.
    public var connectTimeoutSeconds: Int = 2
    /// The longest one statement may run, set as the session's `statement_timeout`. The client
    /// waits for an answer that long plus ``PostgresConnection/deadlineMargin``, then closes the
    /// connection as dead: a partitioned server never answers, and TCP alone would wait minutes.
    /// A transaction or scope may set a timeout of its own for its statements. nil: no limit.
    public var statementTimeout: Duration?
    /// Notices and connection events are logged here, at debug level.
    public var logger: Logger = Logger(label: "kairos.postgres")

    public init(_ connectionString: String) {
        self.connectionString = connectionString
    }

    /// libpq keywords, in an order that lets the connection string override our defaults:
    /// libpq applies keywords in order and the string is expanded where `dbname` stands.
    var connectionKeywords: [(String, String)] {
        [
            ("fallback_application_name", applicationName),
            ("connect_timeout", String(connectTimeoutSeconds)),
            // A dead peer is noticed in seconds rather than the kernel's two hours, even while a
            // long statement runs: keepalives while nothing is in flight, and tcp_user_timeout
            // while sent data goes unacknowledged (keepalives do not fire then, as in a partition).
            ("keepalives", "1"),
            ("keepalives_idle", "5"),
            ("keepalives_interval", "1"),
            ("keepalives_count", "3"),
            ("tcp_user_timeout", "5000"),
            ("dbname", connectionString),
        ]
    }
}
