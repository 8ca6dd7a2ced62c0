import Postgres

/// Whether the database can serve Kairos: it answers, and every migration is applied. What
/// readiness reports.
public struct DatabaseHealth: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    public enum Status: Sendable, Equatable {
        /// Ready, with this many migrations applied.
        case ready(migrations: Int)
        /// Reachable, but these migrations (`version (name)`) are not applied yet.
        case migrationsPending([String])
        /// Unreachable or failing, with the reason.
        case unavailable(String)
    }

    /// Waits at most `timeout` for a connection.
    public func check(timeout: Duration) -> Status {
        do {
            let pending = try pool.withConnection(timeout: timeout) { connection in
                try Migrator.pendingMigrations(KairosSchema.migrations, on: connection)
            }
            guard pending.isEmpty else { return .migrationsPending(pending.map { "\($0.version) (\($0.name))" }) }
            return .ready(migrations: KairosSchema.migrations.count)
        } catch {
            return .unavailable("\(error)")
        }
    }
}
