import Postgres

/// Whether the database can serve Kairos: it answers, and every migration is applied. What
/// readiness reports. It keeps a connection of its own, so that however busy the service's
/// pool is, the answer comes within about a second.
public final class DatabaseHealth: Sendable {
    private let pool: PostgresPool
    /// The longest each statement of a check may take.
    public let timeout: Duration

    /// - Parameter configuration: the service's; the check opens one connection of its own.
    /// - Parameter timeout: for the check's statements; getting the connection (opening it, after
    ///   a failure) may take as long again and half more, so that a server busy starting backends
    ///   still gets its connection opened, and an unreachable one is reported within 3 s.
    public init(configuration: PostgresConfiguration, timeout: Duration = .milliseconds(900)) {
        var own = configuration
        own.applicationName = "kairos-health"
        own.statementTimeout = timeout
        pool = PostgresPool(own, maximumConnections: 1, acquireTimeout: timeout * 1.5)
        self.timeout = timeout
    }

    public enum Status: Sendable, Equatable {
        /// Ready, with this many migrations applied.
        case ready(migrations: Int)
        /// Reachable, but these migrations (`version (name)`) are not applied yet.
        case migrationsPending([String])
        /// Unreachable, failing or too slow, with the reason.
        case unavailable(String)
    }

    public func check() -> Status {
        do {
            let pending = try pool.withConnection { connection in
                // A database too slow to answer within the timeout is as good as down.
                try connection.withTransaction(.readOnly(timeout: timeout)) { tx in
                    try Migrator.pendingMigrations(KairosSchema.migrations, on: tx)
                }
            }
            guard pending.isEmpty else { return .migrationsPending(pending.map { "\($0.version) (\($0.name))" }) }
            return .ready(migrations: KairosSchema.migrations.count)
        } catch {
            return .unavailable("\(error)")
        }
    }
}
