import HTTPServer
import Jobs
import JSON
import Postgres

/// `GET /liveness` and `GET /readiness`, for orchestrators.
enum HealthRoutes {
    static func add(to router: inout Router, database: PostgresPool, startup: Startup) {
        // Liveness says only that the process serves: inline, so it answers even when every
        // worker is busy, and never touches the database.
        router.add(.get, KairosAPI.basePath + "/liveness", execution: .inline) { _ in .json([:]) }

        router.add(.get, KairosAPI.basePath + "/readiness") { _ in
            // The database's state first: it is the likelier reason, and the more useful one.
            let response = readiness(database)
            if response.status == .ok, let step = startup.pendingStep {
                return .error(.serviceUnavailable, "not ready yet: \(step)")
            }
            return response
        }
    }

    /// 200 when the database answers within two seconds and every migration is applied,
    /// else 503 with the reason.
    static func readiness(_ database: PostgresPool) -> HTTPResponse {
        do {
            let pending = try database.withConnection(timeout: .seconds(2)) { connection in
                try Migrator.pendingMigrations(KairosSchema.migrations, on: connection)
            }
            guard pending.isEmpty else {
                let names = pending.map { "\($0.version) (\($0.name))" }.joined(separator: ", ")
                return .error(.serviceUnavailable, "database migrations not applied yet: \(names)")
            }
            return .json(["status": "ready", "migrations": .int(Int64(KairosSchema.migrations.count))])
        } catch {
            return .error(.serviceUnavailable, "database unavailable: \(error)")
        }
    }
}
