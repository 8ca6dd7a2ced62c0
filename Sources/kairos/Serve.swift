import API
import ArgumentParser
import Dispatch
import Foundation
import HTTPServer
import Jobs
import Logging
import Outbound
import Postgres

struct Serve: ParsableCommand, ServiceFlags {
    static let configuration = CommandConfiguration(
        abstract: "Serve the REST API; apply migrations at boot; stop gracefully on SIGTERM or SIGINT.")

    @Option(name: .customLong("database-url"), help: "libpq connection string or postgresql:// URI (env: DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env: KAIROS_LOG_LEVEL).")
    var logLevel: String?

    @Option(help: "Address to listen on (env: KAIROS_HOST).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env: KAIROS_PORT).")
    var port: Int?

    @Option(help: "Comma-separated API tokens (env: KAIROS_API_TOKENS).")
    var apiTokens: String?

    @Flag(help: "Serve beyond loopback without API tokens (env: KAIROS_ALLOW_UNAUTHENTICATED=true).")
    var allowUnauthenticated = false

    @Option(name: .customLong("default-jobs-dir"), help: "Directory of default job files (env: KAIROS_DEFAULT_JOBS_DIR).")
    var defaultJobsDirectory: String?

    @Option(help: "Comma-separated tables a $filter may read; any when not given (env: KAIROS_FILTER_TABLES).")
    var filterTables: String?

    @Option(help: "Comma-separated schemas besides public that a $filter may name, as in reports.sales (env: KAIROS_FILTER_SCHEMAS).")
    var filterSchemas: String?

    @Option(help: "How long one $filter query may run, as a duration such as 30s (env: KAIROS_FILTER_TIMEOUT).")
    var filterTimeout: String?

    @Option(name: .customLong("filter-max-rows"), help: "Most rows one $filter may match; more is an error (env: KAIROS_FILTER_MAX_ROWS).")
    var filterMaximumRows: String?

    @Option(
        name: .customLong("filter-max-bytes"),
        help: "Most bytes of JSON one $filter expansion or one firing may produce, such as 32MiB (env: KAIROS_FILTER_MAX_BYTES).")
    var filterMaximumBytes: String?

    @Option(help: "How many $filter expansions the API runs at once, of its 16 database connections (env: KAIROS_FILTER_CONCURRENCY; default 4).")
    var filterConcurrency: String?

    @Option(help: "The API spec to serve and make the docs page from (env: KAIROS_OPENAPI_FILE; default openapi.yaml).")
    var openapiFile: String?

    @Option(
        name: .customLong("max-connections-per-client"),
        help: "Open connections one client address may hold; more are refused with 503 (env: KAIROS_MAX_CONNECTIONS_PER_CLIENT; default 256).")
    var maximumConnectionsPerClient: String?

    @Option(
        help: "Longest one database statement of an API call may run, such as 1s or 0.5s; the call then answers 503 (env: KAIROS_DATABASE_TIMEOUT; default 1s).")
    var databaseTimeout: String?

    @Option(
        help: "Longest a waiting claim (POST /flows/claim with wait) is held before it is answered, whatever it asks, such as 25s for a proxy that closes quiet connections sooner (env: KAIROS_CLAIM_WAIT_LIMIT; default 60s).")
    var claimWaitLimit: String?

    @Option(
        help: "Host names and CIDR blocks beyond the public internet that webhooks may call, comma-separated, such as hooks.internal,10.1.0.0/16; link-local and cloud metadata addresses are refused whatever this says (env: KAIROS_WEBHOOK_ALLOW; default none).")
    var webhookAllow: String?

    @Option(help: "Webhook calls at once, 1 to 256 (env: KAIROS_WEBHOOK_CONCURRENCY; default 16).")
    var webhookConcurrency: String?

    @Option(
        help: "How long past a webhook call's timeout its lease lasts: a call whose process stopped is taken up by another this long after its timeout (env: KAIROS_WEBHOOK_LEASE_MARGIN; default 30s).")
    var webhookLeaseMargin: String?

    @Option(
        help: "How long final runs, final flows and failure records are kept before the service deletes them, such as \"30 days\", or \"forever\" (env: KAIROS_RETAIN; default 30 days).")
    var retain: String?

    @Option(help: "Seconds that requests under way may take to finish at shutdown.")
    var shutdownGrace: Int = 10

    @Option(help: "Longest the scheduler sleeps between two looks at the database, in seconds (1 to 30).")
    var schedulerMaxSleep: Int = 30

    func run() throws {
        let configuration = try ServiceConfiguration.resolveOrExit(self)
        let logger = makeLogger(level: configuration.logLevel)
        let signals = ShutdownSignal()
        // Writes to a closed peer fail with EPIPE rather than end the process: the server sends
        // with MSG_NOSIGNAL, but libcurl (with CURLOPT_NOSIGNAL, as threads need) may not in
        // every corner of its TLS layer.
        signal(SIGPIPE, SIG_IGN)

        var database = PostgresConfiguration(configuration.databaseURL)
        database.logger = logger
        let pools = ServicePools(database, apiTimeout: configuration.databaseTimeout, webhookConcurrency: configuration.webhooks.concurrency)
        let pool = pools.api
        let schedulerPool = pools.scheduler

        let handlers = HandlerRegistry.standard(filters: configuration.filters, outbound: configuration.webhooks.policy)
        let metrics = ServiceMetrics(logSink: .standardError)
        let specification = loadSpecification(configuration.openapiFile, logger: logger)
        let startup = Startup(pending: "applying database migrations")
        // One bound on after-commit work for the whole process: manual runs' and the scheduler's.
        let afterCommit = AfterCommitExecutor()
        // Webhook calls, after their firings commit; both firers ring it.
        let deliveries = DeliveryDispatcher(
            pool: pools.deliveries, client: HTTPClient(policy: configuration.webhooks.policy),
            configuration: DeliveryDispatcher.Configuration(concurrency: configuration.webhooks.concurrency, leaseMargin: configuration.webhooks.leaseMargin),
            logger: logger)
        let server = HTTPServer(
            HTTPServer.Configuration(host: configuration.host, port: configuration.port, limits: configuration.httpLimits),
            router: KairosAPI.router(
                database: pool, startup: startup, handlers: handlers, metrics: metrics, specification: specification,
                afterCommit: afterCommit, deliveries: deliveries.doorbell, logger: logger, claimWaitLimit: configuration.claimWaitLimit),
            middleware: KairosAPI.middleware(logger: logger, tokens: configuration.apiTokens, metrics: metrics), logger: logger)
        do {
            try server.start()
        } catch {
            throw ValidationError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        if configuration.apiTokens.isEmpty {
            logger.warning(
                "no API tokens configured: every route is open to whoever can reach this address",
                metadata: ["host": "\(configuration.host)", "port": "\(server.port ?? 0)"])
        }
        // Tests and scripts wait for this line; it carries the port actually bound.
        logger.notice(
            "listening", metadata: ["host": "\(configuration.host)", "port": "\(server.port ?? 0)", "version": "\(KairosVersion.current)"])

        // Migrations need the database; until it answers, readiness says 503 and we keep trying.
        DatabaseBootstrap.migrate(pools.migrations, logger: logger, until: signals)
        var scheduler: Scheduler?
        var retention: RetentionSweeper?
        if !signals.received {
            startup.update("loading default jobs")
            let store = JobStore(pool: pool)
            let outcomes = DefaultJobLoader(store: store, handlers: handlers).load(
                directory: configuration.defaultJobsDirectory, logger: logger)
            logger.info(
                "default jobs loaded",
                metadata: [
                    "directory": "\(configuration.defaultJobsDirectory)", "loaded": "\(outcomes.filter { $0.error == nil }.count)",
                    "failed": "\(outcomes.filter { $0.error != nil }.count)",
                ])
            scheduler = startScheduler(
                schedulerPool, handlers: handlers, afterCommit: afterCommit, deliveries: deliveries.doorbell, metrics: metrics, logger: logger)
            deliveries.start()
            if let retain = configuration.retention {
                retention = RetentionSweeper(
                    pool: pools.retention, configuration: RetentionSweeper.Configuration(retain: retain), logger: logger,
                    onBatch: metrics.recordRetention)
                retention?.start()
            }
            startup.markReady()
            logger.notice("ready")
        }

        let signal = signals.wait()
        logger.notice("shutting down", metadata: ["signal": "\(signal)"])
        // Stop claiming first; the batch under way commits before the pool closes.
        scheduler?.stop()
        retention?.stop()
        server.shutdown(gracePeriod: .seconds(shutdownGrace))
        // A call cut short is taken up again once its lease runs out, by this process or another.
        if !deliveries.stop(grace: .seconds(shutdownGrace)) {
            logger.warning("webhook calls still under way at shutdown; another process takes them up when their leases run out",
                           metadata: ["running": "\(deliveries.running)"])
        }
        // Work already committed gets the same grace to finish before its connections go.
        if !afterCommit.waitUntilIdle(timeout: .seconds(shutdownGrace)) {
            let load = afterCommit.load
            logger.warning("after-commit work still under way at shutdown", metadata: ["running": "\(load.running)", "waiting": "\(load.waiting)"])
        }
        pool.close()
        schedulerPool.close()
        pools.deliveries.close()
        pools.retention.close()
        logger.notice("stopped")
    }
}

extension Serve {
    /// The spec, or nil with the reason logged: the API serves without its docs rather than not at all.
    private func loadSpecification(_ path: String, logger: Logger) -> APISpecification? {
        do {
            return try APISpecification(contentsOf: path)
        } catch {
            logger.error("the API spec was not loaded; /api/v1/openapi.* and /api/v1/ui/ answer 503", metadata: ["file": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    private func startScheduler(
        _ pool: PostgresPool, handlers: HandlerRegistry, afterCommit: AfterCommitExecutor, deliveries: DeliveryDoorbell, metrics: ServiceMetrics,
        logger: Logger
    ) -> Scheduler? {
        let scheduler = Scheduler(
            firer: JobFirer(pool: pool, handlers: handlers, afterCommit: afterCommit, deliveries: deliveries, logger: logger),
            configuration: Scheduler.Configuration(maximumSleep: .seconds(max(1, schedulerMaxSleep))), logger: logger,
            onEvent: { event in
                switch event {
                case .batch(let report): metrics.recordBatch(report)
                case .failed: metrics.recordBatchFailure()
                case .sleeping, .listening: break
                }
            })
        do {
            try scheduler.start()
            return scheduler
        } catch {
            logger.critical("cannot start the scheduler", metadata: ["error": "\(error)"])
            return nil
        }
    }
}

/// The service's database connections, each set with its own bound on how long the database may
/// take to answer (each statement's `statement_timeout`, which is also how long the client waits
/// before calling the server unreachable; see ``PostgresConnection``).
struct ServicePools {
    /// The API's: a call waits at most its timeout for a connection (opening one or checking an
    /// idle one included) and its timeout and a quarter second more for each statement. An
    /// unreachable database fails whichever comes first (a new connection cannot open; an idle
    /// one's statement is not answered), so by default a caller gets its 503 in under 1.5 s.
    /// `$filter` expansions and manual runs set their own statement timeout.
    let api: PostgresPool
    /// The scheduler's own connections: no amount of API traffic can take them. Its statements
    /// may write a firing's flows (up to 64 MiB a statement), so they get a minute.
    let scheduler: PostgresPool
    /// The webhook dispatcher's: taking deliveries up and recording attempts, apart from both
    /// (a call holds no connection while it waits for its target).
    let deliveries: PostgresPool
    /// For migrations at boot, which wait for another replica's and may rewrite tables: no timeout.
    let migrations: PostgresConfiguration
    /// Retention's one connection: its batches take nothing from the others.
    let retention: PostgresPool

    init(_ database: PostgresConfiguration, apiTimeout: Duration, webhookConcurrency: Int) {
        var api = database
        api.statementTimeout = apiTimeout
        self.api = PostgresPool(api, maximumConnections: 16, acquireTimeout: apiTimeout)
        var scheduler = database
        scheduler.statementTimeout = .seconds(60)
        // One per firing lane, and one for what a batch leaves to settle after its commit.
        self.scheduler = PostgresPool(scheduler, maximumConnections: Scheduler.Configuration().firingLanes + 1, acquireTimeout: .seconds(10))
        var deliveries = database
        deliveries.statementTimeout = .seconds(10)
        // One connection per call slot at most: a slot holds one only to take or record a call.
        self.deliveries = PostgresPool(deliveries, maximumConnections: min(max(webhookConcurrency, 2), 16), acquireTimeout: .seconds(30))
        var migrations = database
        migrations.statementTimeout = nil
        self.migrations = migrations
        var retention = database
        retention.statementTimeout = .seconds(60)
        self.retention = PostgresPool(retention, maximumConnections: 1, acquireTimeout: .seconds(60))
    }
}

/// Applies migrations at boot, retrying while the database is unreachable.
enum DatabaseBootstrap {
    static func migrate(_ configuration: PostgresConfiguration, logger: Logger, until signals: ShutdownSignal) {
        var attempt = 0
        while !signals.received {
            do {
                let applied = try Migrator.migrate(KairosSchema.migrations, on: PostgresConnection.connect(configuration))
                logger.info("database ready", metadata: ["migrations_applied": "\(applied.count)"])
                return
            } catch {
                attempt += 1
                logger.error("database not ready; retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                _ = signals.wait(timeout: min(30, Double(attempt) * 2))
            }
        }
    }
}

/// SIGTERM and SIGINT, caught through Dispatch signal sources.
final class ShutdownSignal: @unchecked Sendable {
    // @unchecked: `number` is guarded by `condition`; `sources` is written once in init.
    private let condition = NSCondition()
    private var number: Int32?
    private var sources: [DispatchSourceSignal] = []

    init() {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.condition.withLock {
                    self.number = signalNumber
                    self.condition.broadcast()
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    var received: Bool { condition.withLock { number != nil } }

    /// Blocks until a signal arrives and returns its number.
    func wait() -> Int32 {
        condition.withLock {
            while number == nil { condition.wait() }
            return number!
        }
    }

    /// Blocks until a signal arrives (true) or `timeout` seconds pass (false).
    func wait(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while number == nil {
                if !condition.wait(until: deadline) { break }
            }
            return number != nil
        }
    }
}
