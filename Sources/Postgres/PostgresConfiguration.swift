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
    /// Seconds to wait for the server to answer a connection attempt, unless the string sets it.
    public var connectTimeoutSeconds: Int = 10
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
            // A dead peer is noticed in seconds rather than the kernel's two hours: keepalives
            // while idle, and tcp_user_timeout while sent data goes unacknowledged (keepalives
            // do not fire then, as in a partition).
            ("keepalives", "1"),
            ("keepalives_idle", "10"),
            ("keepalives_interval", "5"),
            ("keepalives_count", "3"),
            ("tcp_user_timeout", "10000"),
            ("dbname", connectionString),
        ]
    }
}
