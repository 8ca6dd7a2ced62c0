import HTTPServer
import Jobs
import JSON

/// `GET /liveness` and `GET /readiness`, for orchestrators.
enum HealthRoutes {
    static func add(to router: inout Router, database: DatabaseHealth, startup: Startup) {
        // Liveness says only that the process serves: inline, so it answers even when every
        // worker is busy, and never touches the database.
        router.add(.get, KairosAPI.basePath + "/liveness", query: [], execution: .inline) { _ in .json([:]) }

        router.add(.get, KairosAPI.basePath + "/readiness", query: []) { _ in
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
    static func readiness(_ database: DatabaseHealth) -> HTTPResponse {
        switch database.check(timeout: .seconds(2)) {
        case .ready(let migrations):
            return .json(["status": "ready", "migrations": .int(Int64(migrations))])
        case .migrationsPending(let names):
            return .error(.serviceUnavailable, "database migrations not applied yet: \(names.joined(separator: ", "))")
        case .unavailable(let reason):
            return .error(.serviceUnavailable, "database unavailable: \(reason)")
        }
    }
}
