import HTTPServer
import Jobs
import Postgres

/// `GET /metrics`: Prometheus's text format. Requests and firings come from this process's
/// ``ServiceMetrics``; how far firing is behind and whether the database answers from the
/// database and the pool at scrape time; flows by state at most 5 s old (``FlowCountsCache``).
struct MetricsRoutes {
    let metrics: ServiceMetrics
    let pool: PostgresPool
    let board: FlowBoard
    let store: JobStore
    /// Whether the database answers, over a connection of its own: a busy pool is not an outage.
    let health: DatabaseHealth
    let waiters: ClaimWaiters
    let flowCounts = FlowCountsCache()

    /// What the database said at scrape time; nil fields when it could not say.
    struct DatabaseFacts {
        var isUp = false
        var flowsByState: [(state: String, flowName: String, count: Int)]?
        /// Seconds the oldest due job has waited; grows while firing is stuck.
        var overdueSeconds: Double?
    }

    /// Outside `/api/v1`, where scrapers look by default.
    static let path = "/metrics"

    func add(to router: inout Router) {
        router.add(.get, Self.path, query: []) { _ in
            HTTPResponse(
                status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                body: Array(render(databaseFacts()).utf8))
        }
    }

    /// Nil facts when the database cannot say, which leaves those series out rather than failing
    /// the scrape; `kairos_db_up` says why. The second question is asked only if the first was
    /// answered, so an outage costs one wait.
    private func databaseFacts() -> DatabaseFacts {
        var facts = DatabaseFacts()
        if case .unavailable = health.check() {} else { facts.isUp = true }
        guard facts.isUp else { return facts }
        facts.flowsByState = flowCounts.counts { try board.countsByState(timeout: .seconds(2)).map { ($0.state.rawValue, $0.flowName, $0.count) } }
        if facts.flowsByState != nil {
            facts.overdueSeconds = (try? store.overdue(timeout: .seconds(2))).map { Double($0) / 1_000_000 }
        }
        return facts
    }

    func render(_ database: DatabaseFacts) -> String {
        let flowsByState = database.flowsByState
        let state = metrics.state.withLock { $0 }
        var out = PrometheusText()

        out.family("kairos_http_requests_total", type: "counter", help: "HTTP requests answered, by route template, method and status.")
        for (key, count) in state.requests.sorted(by: { $0.key < $1.key }) {
            out.sample("kairos_http_requests_total", [("route", key.route), ("method", key.method), ("status", String(key.status))], Double(count))
        }
        out.family("kairos_http_request_duration_seconds", type: "histogram", help: "Time to answer a request, by route template and method.")
        for (key, histogram) in state.latencies.sorted(by: { $0.key < $1.key }) {
            let labels = [("route", key.route), ("method", key.method)]
            var cumulative = 0
            for (index, bound) in ServiceMetrics.latencyBuckets.enumerated() {
                cumulative += histogram.counts[index]
                out.sample("kairos_http_request_duration_seconds_bucket", labels + [("le", PrometheusText.number(bound))], Double(cumulative))
            }
            out.sample("kairos_http_request_duration_seconds_bucket", labels + [("le", "+Inf")], Double(histogram.count))
            out.sample("kairos_http_request_duration_seconds_sum", labels, histogram.sum)
            out.sample("kairos_http_request_duration_seconds_count", labels, Double(histogram.count))
        }

        for (name, value, help) in [
            ("kairos_jobs_fired_total", state.fired, "Scheduled times this process fired and ran."),
            ("kairos_jobs_missed_total", state.missed, "Scheduled times skipped as later than their misfire grace time."),
            ("kairos_jobs_failed_total", state.failed, "Firings whose handler failed (each left a failed-job record)."),
            ("kairos_jobs_skipped_total", state.skipped, "Firings not carried out because the job had already fired at that scheduled time."),
            ("kairos_flows_posted_total", state.flowsPosted, "Flows this process's firings posted."),
            ("kairos_flows_claimed_total", state.flowsClaimed, "Flows workers claimed through this process."),
            ("kairos_flow_leases_expired_total", state.leasesExpired, "Leases that ran out (their workers lost), as claims through this process found them."),
            ("kairos_flow_retries_total", state.flowRetries, "Failures workers reported that put the flow back on the board to be retried."),
            ("kairos_flows_failed_total", state.flowsFailed, "Failures workers reported that were final."),
            ("kairos_log_lines_dropped_total", metrics.logSink?.droppedLines ?? 0, "Log lines dropped because their destination (standard error) was slower than the service."),
        ] {
            out.family(name, type: "counter", help: help)
            out.sample(name, [], Double(value))
        }
        out.family("kairos_retention_deleted_total", type: "counter", help: "Rows the retention sweep deleted as older than KAIROS_RETAIN, by kind (runs, flows, failure_records).")
        for kind in ["runs", "flows", "failure_records"] {
            out.sample("kairos_retention_deleted_total", [("kind", kind)], Double(state.retentionDeleted[kind] ?? 0))
        }
        out.family("kairos_scheduler_lag_seconds", type: "gauge", help: "How late the latest due job was claimed: claim time minus scheduled time.")
        if let lag = state.schedulerLag { out.sample("kairos_scheduler_lag_seconds", [], lag) }
        out.family("kairos_scheduler_overdue_seconds", type: "gauge", help: "How long the oldest due job has waited to be fired (0 when none is due or the service is paused); grows while firing is stuck.")
        if let overdue = database.overdueSeconds { out.sample("kairos_scheduler_overdue_seconds", [], overdue) }
        out.family("kairos_scheduler_batch_failures_total", type: "counter", help: "Scheduler looks at the database that failed (it was unreachable, say).")
        out.sample("kairos_scheduler_batch_failures_total", [], Double(state.batchFailures))
        out.family("kairos_scheduler_last_success_timestamp_seconds", type: "gauge", help: "When this process's scheduler last looked at the database successfully, in Unix seconds.")
        if let last = state.lastSuccessfulBatch { out.sample("kairos_scheduler_last_success_timestamp_seconds", [], last) }
        out.family("kairos_db_up", type: "gauge", help: "Whether the database answered this scrape (1) or not (0).")
        out.sample("kairos_db_up", [], database.isUp ? 1 : 0)

        if let flowsByState {
            out.family("kairos_flows", type: "gauge", help: "Flows on the board, by state and flow name.")
            for entry in flowsByState {
                out.sample("kairos_flows", [("state", entry.state), ("flow_name", entry.flowName)], Double(entry.count))
            }
        }
        let pool = self.pool.statistics
        out.family("kairos_db_pool_connections", type: "gauge", help: "Database connections in the pool, by state.")
        out.sample("kairos_db_pool_connections", [("state", "in_use")], Double(pool.inUse))
        out.sample("kairos_db_pool_connections", [("state", "idle")], Double(pool.idle))
        out.family("kairos_db_pool_waiting", type: "gauge", help: "Callers waiting for a database connection.")
        out.sample("kairos_db_pool_waiting", [], Double(pool.waiting))
        out.family("kairos_flow_claims_waiting", type: "gauge", help: "Claims parked until work comes (long polls), in this process.")
        out.sample("kairos_flow_claims_waiting", [], Double(waiters.count))
        out.family("process_start_time_seconds", type: "gauge", help: "When this process started, in seconds since the Unix epoch.")
        out.sample("process_start_time_seconds", [], metrics.processStartTime)
        return out.text
    }
}
