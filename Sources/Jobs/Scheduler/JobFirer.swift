import Chronology
import Foundation
import JSON
import Logging
import Postgres
import SQLBuilding
import Scheduling

/// Fires due jobs: claims them with `FOR UPDATE SKIP LOCKED`, applies the misfire rules, runs
/// the handlers, records the runs, posts the flows and stores the next run times, all in one
/// transaction per batch. Any number of firers on one database fire each scheduled time once;
/// a crash before commit leaves the jobs due, to be claimed again.
public struct JobFirer: Sendable {
    public let pool: PostgresPool
    public let handlers: HandlerRegistry
    let logger: Logger

    public init(pool: PostgresPool, handlers: HandlerRegistry = .standard, logger: Logger = Logger(label: "kairos.firer")) {
        self.pool = pool
        self.handlers = handlers
        self.logger = logger
    }

    /// What one batch did.
    public struct Report: Sendable, Equatable {
        /// Jobs claimed; equal to the batch limit when more may be due.
        public var claimed = 0
        public var succeeded = 0
        public var failed = 0
        public var missed = 0
        /// Firings not carried out because their job had already fired at that very time (a
        /// manual run at the slot's instant, a job replaced with an overlapping schedule).
        public var skipped = 0
        public var flowsPosted = 0
        /// The judging time: the database's clock unless a test gave one.
        public var now: Timestamp?
        /// `now - scheduled time` of each firing, in microseconds.
        public var lateness: [Int64] = []
    }

    /// Fires up to `limit` due jobs, judged at `now`, or at the database's clock when nil.
    public func fireDue(now testNow: Timestamp? = nil, limit: Int = 500) throws -> Report {
        try pool.withTransaction { tx in
            let rows = try tx.query(Self.jobClaimDue(now: testNow, limit: limit))
            var report = Report(claimed: rows.count)
            guard !rows.isEmpty else { return report }
            let now = try rows[0].decode(Timestamp.self, column: "now")
            report.now = now
            let claimed = try rows.map(Self.claimedJob)
            let context = filterContext(tx)
            let records = claimed.map { FiringPlan.scheduled($0, now: now, handlers: handlers, context: context) }
            try write(records, claimedAt: now, on: tx, report: &report)
            return report
        }
    }

    /// Fires `jobID` once now, whatever its schedule, which stays as it is. Waits for a firing
    /// of the same job under way to commit, so a job never has two executions at once.
    /// Nil when there is no such job.
    public func runNow(_ jobID: String, now: Timestamp) throws -> Run? {
        try pool.withTransaction { tx in
            guard let row = try tx.query("""
                SELECT job_id, handler, kwargs, start_at, interval_us, misfire_grace_us, coalesce(next_run_time, start_at) AS next_run_time
                FROM jobs WHERE job_id = \(jobID) FOR UPDATE
                """).first
            else { return nil }
            var report = Report(claimed: 1)
            let record = FiringPlan.execute(
                try Self.claimedJob(row), slot: now, cause: .manual, handlers: handlers, context: filterContext(tx))
            try write([record], claimedAt: now, on: tx, report: &report)
            return try tx.query("SELECT \(Rows.runColumns) FROM runs WHERE job_id = \(jobID) AND scheduled_for = \(now)")
                .first.map(Rows.run)
        }
    }

    /// `$filter` queries read within the firing's transaction (in a read-only savepoint), so the
    /// rows and the flows they become commit or vanish together with the claim.
    private func filterContext(_ tx: PostgresConnection) -> FiringContext {
        let expander = FilterExpander(policy: handlers.filters)
        return FiringContext { query in try expander.rows(matching: query, on: tx) }
    }

    // MARK: Statements

    static func jobClaimDue(now: Timestamp?, limit: Int) -> SQL {
        // One "now" for the whole batch, from the database unless a test clock gives it, so
        // replicas with skewed clocks agree on what is due.
        """
        WITH clock AS (SELECT coalesce(\(now)::timestamptz, clock_timestamp()) AS now)
        SELECT j.job_id, j.handler, j.kwargs, j.start_at, j.interval_us, j.misfire_grace_us, j.next_run_time, clock.now
        FROM jobs j, clock
        WHERE j.state = 'running' AND j.next_run_time <= clock.now
          AND (SELECT state FROM service_state) = 'running'
        ORDER BY j.next_run_time
        LIMIT \(limit)
        FOR UPDATE OF j SKIP LOCKED
        """
    }

    private static func claimedJob(_ row: PostgresRow) throws -> ClaimedJob {
        ClaimedJob(
            id: try row.decode(String.self, column: "job_id"),
            handler: try row.decode(String.self, column: "handler"),
            kwargs: try row.decode(JSONValue.self, column: "kwargs").objectValue ?? [:],
            trigger: try Rows.trigger(row),
            misfireGraceTime: try row.decode(Int64?.self, column: "misfire_grace_us").map(Period.init(microseconds:)),
            due: try row.decode(Timestamp.self, column: "next_run_time"))
    }

    /// Writes a batch with one statement per table, whatever its size: runs, flows, failed-job
    /// records, next run times.
    private func write(_ records: [FiringRecord], claimedAt now: Timestamp, on tx: PostgresConnection, report: inout Report) throws {
        // A run that already exists means this scheduled time was fired before (a job replaced
        // with an overlapping schedule): its identity is taken, so nothing is posted again.
        let recorded = Set(
            try tx.query("""
                INSERT INTO runs (job_id, scheduled_for, coalesced_slots, cause, outcome, claimed_at, started_at,
                                  finished_at, flows_posted, error)
                SELECT r.job_id, r.scheduled_for, r.coalesced_slots, r.cause, r.outcome, \(now),
                       CASE WHEN r.outcome IN ('missed', 'skipped') THEN NULL ELSE \(now)::timestamptz END,
                       clock_timestamp(), r.flows_posted, r.error
                FROM unnest(\(records.map(\.job.id)), \(records.map(\.slot)), \(records.map(\.coalescedSlots)),
                            \(records.map(\.cause.rawValue)), \(records.map(\.outcome.rawValue)),
                            \(records.map { Int64($0.flows.count) }), \(records.map(\.error)))
                     AS r(job_id, scheduled_for, coalesced_slots, cause, outcome, flows_posted, error)
                ON CONFLICT (job_id, scheduled_for) DO NOTHING
                RETURNING job_id
                """).map { try $0.decode(String.self, column: "job_id") })

        var flows = FlowColumns()
        for record in records {
            guard recorded.contains(record.job.id) else {
                report.skipped += 1
                logger.info("firing skipped: the job already fired at this time",
                            metadata: ["job.id": "\(record.job.id)", "scheduled_for": "\(record.slot.iso8601)"])
                continue
            }
            switch record.outcome {
            case .succeeded, .running: report.succeeded += 1
            case .failed: report.failed += 1
            case .missed, .skipped: report.missed += 1
            }
            report.lateness.append(now - record.slot)
            for (position, flow) in record.flows.enumerated() {
                flows.append(flow, job: record.job.id, slot: record.slot, position: position)
            }
        }
        if !flows.jobIDs.isEmpty {
            try tx.execute("""
                INSERT INTO flows (flow_name, arguments, task_names, run_subsequent, job_id, scheduled_for, position)
                SELECT * FROM unnest(\(flows.names), \(flows.arguments), \(flows.taskNames), \(flows.runSubsequent),
                                     \(flows.jobIDs), \(flows.slots), \(flows.positions))
                ON CONFLICT (job_id, scheduled_for, position) DO NOTHING
                """)
            report.flowsPosted += flows.jobIDs.count
        }

        for record in records where record.outcome == .failed && recorded.contains(record.job.id) {
            logger.warning("job failed", metadata: ["job.id": "\(record.job.id)", "error": "\(record.error ?? "")"])
            try tx.execute("""
                INSERT INTO jobs (job_id, handler, kwargs, start_at, state, origin)
                VALUES (\(UUID().uuidString.lowercased()), 'ErrorHandler', \(JSONValue.object(FiringPlan.failureKwargs(record))),
                        \(record.slot), 'paused', 'failure')
                """)
        }

        let rescheduled = records.compactMap { record in record.schedule.map { (record.job.id, $0) } }
        if !rescheduled.isEmpty {
            let next: [Timestamp?] = rescheduled.map {
                if case .next(let time) = $0.1 { return time }
                return nil
            }
            try tx.execute("""
                UPDATE jobs SET next_run_time = u.next_run_time,
                    state = CASE WHEN u.next_run_time IS NULL THEN 'finished' ELSE 'running' END
                FROM unnest(\(rescheduled.map(\.0)), \(next)) AS u(job_id, next_run_time)
                WHERE jobs.job_id = u.job_id
                """)
        }
    }
}

/// Flow rows as column arrays, for one multi-row insert through `unnest`.
private struct FlowColumns {
    var names: [String] = []
    var arguments: [JSONValue] = []
    var taskNames: [JSONValue?] = []
    var runSubsequent: [Bool] = []
    var jobIDs: [String] = []
    var slots: [Timestamp] = []
    var positions: [Int32] = []

    mutating func append(_ flow: FlowRequest, job: String, slot: Timestamp, position: Int) {
        names.append(flow.flowName)
        arguments.append(flow.arguments)
        taskNames.append(flow.taskNames.map { .array($0.map(JSONValue.string)) })
        runSubsequent.append(flow.runSubsequent)
        jobIDs.append(job)
        slots.append(slot)
        positions.append(Int32(position))
    }
}
