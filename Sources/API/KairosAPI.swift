import Chronology
import Foundation
import HTTPServer
import Jobs
import Logging
import Postgres

/// The REST API: every route under ``basePath``, with the middleware every request passes.
public enum KairosAPI {
    public static let basePath = "/api/v1"

    /// - Parameter startup: readiness is 503 until it is marked ready; ready by default.
    /// - Parameter handlers: the job handlers; their ``FilterPolicy`` also governs the `$filter` debug endpoints.
    /// - Parameter clock: "now" for everything it decides about jobs: the database's, or a test's.
    /// - Parameter afterCommit: where manual runs' after-commit work goes; give the scheduler's
    ///   firer the same one, so the process has one bound.
    /// - Parameter deliveries: rung when a manual run recorded a webhook call: the dispatcher's.
    /// - Parameter specification: `openapi.yaml`, for the spec routes and the docs page; without it they answer 503.
    /// - Parameter metrics: what `GET /metrics` reports; give the same one to ``middleware(logger:tokens:metrics:)``.
    /// - Parameter healthTimeout: how long readiness's check may take per statement (see ``DatabaseHealth``).
    /// - Parameter claimWaiters: where waiting claims wait (a listener on `database`'s server);
    ///   one of its own when nil.
    /// - Parameter claimWaitLimit: the longest a waiting claim is held, whatever it asks.
    public static func router(
        database: PostgresPool, startup: Startup = Startup(pending: nil), handlers: HandlerRegistry = .standard,
        metrics: ServiceMetrics = ServiceMetrics(), specification: APISpecification? = nil,
        clock: JobClock = .database, afterCommit: AfterCommitExecutor = AfterCommitExecutor(), deliveries: DeliveryDoorbell = DeliveryDoorbell(),
        logger: Logger = Logger(label: "kairos.api"),
        healthTimeout: Duration = .milliseconds(900), claimWaiters: ClaimWaiters? = nil, claimWaitLimit: Duration = .seconds(60)
    ) -> Router {
        var router = Router()
        let store = JobStore(pool: database, clock: clock)
        let board = FlowBoard(pool: database, clock: clock)
        let health = DatabaseHealth(configuration: database.configuration, timeout: healthTimeout)
        HealthRoutes(database: health, startup: startup, logger: logger).add(to: &router)
        ServiceRoutes(store: store).add(to: &router)
        let share = ConnectionShare(size: handlers.filters.maximumConcurrentExpansions)
        let firer = JobFirer(pool: database, handlers: handlers, clock: clock, afterCommit: afterCommit, deliveries: deliveries, logger: logger)
        JobRoutes(store: store, firer: firer, handlers: handlers, share: share).add(to: &router)
        ScheduleRoutes(store: store, firer: firer, share: share).add(to: &router)
        FlowRoutes(board: board).add(to: &router)
        let waiters = claimWaiters ?? ClaimWaiters(configuration: database.configuration, logger: logger)
        FlowBoardRoutes(board: board, metrics: metrics, waiters: waiters, waitLimit: claimWaitLimit).add(to: &router)
        FilterRoutes(pool: database, policy: handlers.filters, share: share).add(to: &router)
        MetricsRoutes(metrics: metrics, pool: database, board: board, store: store, health: health, waiters: waiters).add(to: &router)
        SpecRoutes(specification: specification).add(to: &router)
        DashboardRoutes().add(to: &router)
        return router
    }

    /// Routes whose bodies may pass the server's usual limit: `POST /jobs` with an array of up
    /// to 10,000 jobs (16 MiB: 1.6 KiB a job).
    public static let largeBodyRoutes = [LargeBodyRoute(.post, basePath + "/jobs", maximumBytes: 16 * 1024 * 1024)]

    /// The HTTP server's defaults, with ``largeBodyRoutes``.
    public static var httpLimits: HTTPLimits {
        var limits = HTTPLimits()
        limits.largeBodyRoutes = largeBodyRoutes
        return limits
    }

    /// The access log around everything, then the request metrics (refusals count too), then
    /// the token check.
    public static func middleware(logger: Logger, tokens: [String] = [], metrics: ServiceMetrics? = nil) -> [Middleware] {
        [accessLog(logger)] + (metrics.map { [$0.middleware] } ?? []) + [TokenAuthentication(tokens: tokens).middleware]
    }

    /// Kairos's own JSON handler writes access lines without going through swift-log's metadata
    /// dictionaries (the line is the same); any other handler gets them as ordinary events.
    static func accessLog(_ logger: Logger) -> Middleware {
        guard let handler = logger.handler as? JSONLogHandler else { return Middlewares.accessLog(logger) }
        return Middlewares.accessLog { entry in handler.logAccess(entry) }
    }
}
