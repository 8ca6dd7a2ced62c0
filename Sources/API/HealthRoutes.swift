import HTTPServer
import Jobs
import JSON
import Logging
import Locking

/// `GET /liveness` and `GET /readiness`, for orchestrators.
final class HealthRoutes: Sendable {
    let database: DatabaseHealth
    let startup: Startup
    let logger: Logger
    /// The last database failure logged, so a probe every second during an outage logs it once.
    private let lastLoggedFailure = Locked<String?>(nil)

    init(database: DatabaseHealth, startup: Startup, logger: Logger) {
        self.database = database
        self.startup = startup
        self.logger = logger
    }

    func add(to router: inout Router) {
        // Liveness says only that the process serves: inline, so it answers even when every
        // worker is busy, and never touches the database.
        router.add(.get, KairosAPI.basePath + "/liveness", query: [], execution: .inline) { _ in .json([:]) }

        router.add(.get, KairosAPI.basePath + "/readiness", query: []) { [self] _ in
            // The database's state first: it is the likelier reason, and the more useful one.
            let response = readiness()
            if response.status == .ok, let step = startup.pendingStep {
                return .error(.serviceUnavailable, "not ready yet: \(step)")
            }
            return response
        }
    }

    /// 200 when the database answers within about a second and every migration is applied, else
    /// 503 with the reason. Readiness needs no token, so a failure's detail (libpq's text, with
    /// host, port and user) goes to the log, and the answer says only what kind of trouble it is.
    func readiness() -> HTTPResponse {
        switch database.check() {
        case .ready(let migrations):
            lastLoggedFailure.withLock { $0 = nil }
            return .json(["status": "ready", "migrations": .int(Int64(migrations))])
        case .migrationsPending(let names):
            return .error(.serviceUnavailable, "database migrations not applied yet: \(names.joined(separator: ", "))")
        case .unavailable(let detail):
            let isNew = lastLoggedFailure.withLock { last in
                defer { last = detail }
                return last != detail
            }
            if isNew { logger.warning("readiness: the database is unavailable", metadata: ["error": "\(detail)"]) }
            return .error(.serviceUnavailable, "database unavailable; the service's log has the reason")
        }
    }
}
