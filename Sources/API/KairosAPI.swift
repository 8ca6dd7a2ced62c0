import HTTPServer
import Logging
import Postgres

/// The REST API: every route under ``basePath``, with the middleware every request passes.
public enum KairosAPI {
    public static let basePath = "/api/v1"

    public static func router(database: PostgresPool) -> Router {
        var router = Router()
        HealthRoutes.add(to: &router, database: database)
        return router
    }

    public static func middleware(logger: Logger) -> [Middleware] {
        [Middlewares.accessLog(logger)]
    }
}
