import Chronology
import JSON
import Logging
import Postgres
import SQLBuilding
import Scheduling

/// Fires due jobs: claims them with `FOR UPDATE SKIP LOCKED`, applies the misfire rules, runs
/// the handlers' in-transaction stage, records the runs, posts the flows and stores the next
/// run times, all in one transaction per batch; then, once it has committed, hands each
/// firing's after-commit work to ``afterCommit``. Any number of firers on one database fire
/// each scheduled time once; a crash before commit leaves the jobs due, to be claimed again.
public struct JobFirer: Sendable {
    public let pool: PostgresPool
    public let handlers: HandlerRegistry
    public let clock: JobClock
    public let afterCommit: AfterCommitExecutor
    let logger: Logger

    public init(
        pool: PostgresPool, handlers: HandlerRegistry = .standard, clock: JobClock = .database,
        afterCommit: AfterCommitExecutor = AfterCommitExecutor(), logger: Logger = Logger(label: "kairos.firer")
    ) {
        self.pool = pool
        self.handlers = handlers
        self.clock = clock
        self.afterCommit = afterCommit
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

    /// Fires up to `limit` jobs due by the clock.
    public func fireDue(limit: Int = 500) throws -> Report {
        var followUps: [(CommittedFiring, @Sendable (CommittedFiring) -> Void)] = []
        let report = try pool.withTransaction { tx in
            let rows = try tx.query(JobsTable.jobClaimDue(clock: clock, limit: limit))
            var report = Report(claimed: rows.count)
            guard !rows.isEmpty else { return report }
            let now = try rows[0].decode(Timestamp.self, column: "now")
            let started = try rows[0].decode(Timestamp.self, column: "claimed_clock")
            report.now = now
            let context = filterContext(tx)
            var records: [FiringRecord] = []
            var unreadable: [UnreadableJob] = []
            for row in rows {
                do {
                    let job = try JobsTable.decode(row)
                    // The claim asked for next_run_time <= now, so it is there.
                    let due = try row.decode(Timestamp.self, column: "next_run_time")
                    records.append(FiringPlan.scheduled(job, due: due, now: now, handlers: handlers, context: context))
                } catch {
                    unreadable.append(try UnreadableJob(row, error: error))
                }
            }
            followUps = try write(records, unreadable: unreadable, claimedAt: now, startedAt: started, on: tx, report: &report)
            return report
        }
        submit(followUps)
        if report.claimed > 0 {
            logger.info(
                "batch fired",
                metadata: [
                    "claimed": "\(report.claimed)", "succeeded": "\(report.succeeded)", "failed": "\(report.failed)",
                    "missed": "\(report.missed)", "skipped": "\(report.skipped)", "flows": "\(report.flowsPosted)",
                    "lateness_max_ms": "\(Double(report.lateness.max() ?? 0) / 1000)",
                ])
        }
        return report
    }

    /// Fires `jobID` once now, whatever its schedule, which stays as it is. Waits for a firing
    /// of the same job under way to commit, so a job never has two executions at once.
    /// Nil when there is no such job.
    public func runNow(_ jobID: String) throws -> Run? {
        var followUps: [(CommittedFiring, @Sendable (CommittedFiring) -> Void)] = []
        let run = try pool.withTransaction { tx -> Run? in
            guard let row = try tx.query(JobsTable.jobSelectForUpdate(id: jobID, clock: clock)).first else { return nil }
            let job = try JobsTable.decode(row)
            let now = try row.decode(Timestamp.self, column: "now")
            let started = try row.decode(Timestamp.self, column: "claimed_clock")
            var report = Report(claimed: 1)
            let record = FiringPlan.execute(job, slot: now, cause: .manual, handlers: handlers, context: filterContext(tx))
            followUps = try write([record], unreadable: [], claimedAt: now, startedAt: started, on: tx, report: &report)
            return try tx.query(RunsTable.runSelect(jobID: jobID, scheduledFor: now)).first.map(RunsTable.decode)
        }
        submit(followUps)
        return run
    }

    /// `$filter` queries read within the firing's transaction (in a read-only savepoint), so the
    /// rows and the flows they become commit or vanish together with the claim.
    private func filterContext(_ tx: PostgresConnection) -> FiringContext {
        let expander = FilterExpander(policy: handlers.filters)
        return FiringContext(outputLimit: handlers.filters.maximumBytes) { query in try expander.rows(matching: query, on: tx) }
    }

    /// Writes a batch with one statement per table, whatever its size: runs, flows, failed-job
    /// records, next run times (unreadable jobs are paused). Returns the after-commit work of the
    /// firings recorded.
    private func write(
        _ records: [FiringRecord], unreadable: [UnreadableJob], claimedAt now: Timestamp, startedAt: Timestamp,
        on tx: PostgresConnection, report: inout Report
    ) throws -> [(CommittedFiring, @Sendable (CommittedFiring) -> Void)] {
        // A run that already exists means this scheduled time was fired before (a job replaced
        // with an overlapping schedule): its identity is taken, so nothing is posted again.
        let runIDs = Dictionary(
            try tx.query(RunsTable.runRecordMany(records.map(\.runRow) + unreadable.map(\.runRow), claimedAt: now, startedAt: startedAt)).map {
                (try $0.decode(String.self, column: "job_id"), try $0.decode(Int64.self, column: "id"))
            },
            uniquingKeysWith: { first, _ in first })

        var flows = FlowColumns()
        var failures: [FailureRecord] = []
        var followUps: [(CommittedFiring, @Sendable (CommittedFiring) -> Void)] = []
        for record in records {
            guard let runID = runIDs[record.job.id] else {
                report.skipped += 1
                logger.info("firing skipped: the job already fired at this time",
                            metadata: ["job.id": "\(record.job.id)", "scheduled_for": "\(record.slot.iso8601)"])
                continue
            }
            switch record.outcome {
            case .succeeded: report.succeeded += 1
            case .failed: report.failed += 1
            case .missed: report.missed += 1
            }
            report.lateness.append(now - record.slot)
            logger.debug(
                "fired",
                metadata: [
                    "job.id": "\(record.job.id)", "scheduled_for": "\(record.slot.iso8601)", "outcome": "\(record.outcome.rawValue)",
                    "coalesced_slots": "\(record.coalescedSlots)", "flows": "\(record.flows.count)", "run.id": "\(runID)",
                ])
            for (position, flow) in record.flows.enumerated() {
                flows.append(flow, job: record.job.id, slot: record.slot, position: position)
            }
            if let failure = record.failureRecord {
                logger.warning("job failed", metadata: ["job.id": "\(record.job.id)", "error": "\(failure.error)"])
                failures.append(failure)
            }
            if let afterCommit = record.afterCommit {
                followUps.append((CommittedFiring(identity: record.identity, runID: runID), afterCommit))
            }
        }
        // Every unreadable job is paused, recorded or not: one whose slot already has a run
        // would otherwise stay due and be claimed again on every loop.
        for job in unreadable {
            logger.error("job cannot be read as stored; paused", metadata: ["job.id": "\(job.id)", "error": "\(job.error)"])
            guard runIDs[job.id] != nil else { continue }
            report.failed += 1
            failures.append(job.failureRecord)
        }
        if !unreadable.isEmpty {
            try tx.execute(JobsTable.jobPauseMany(ids: unreadable.map(\.id)))
        }
        // In statements of at most about 64 MiB of arguments: a batch of firings each near its
        // own byte cap must not make one parameter past PostgreSQL's 1 GB.
        for chunk in flows.chunked(maximumArgumentBytes: 64 << 20) {
            try tx.execute(FlowsTable.flowInsertMany(chunk))
            report.flowsPosted += chunk.count
        }
        if !failures.isEmpty {
            try tx.execute(FailureRecords.failureRecordInsertMany(failures))
        }
        if !runIDs.isEmpty {
            try tx.execute(RunsTable.runFinishMany(ids: Array(runIDs.values)))
        }

        let rescheduled = records.compactMap { record in record.schedule.map { (record.job.id, $0) } }
        if !rescheduled.isEmpty {
            let next: [Timestamp?] = rescheduled.map {
                if case .next(let time) = $0.1 { return time }
                return nil
            }
            try tx.execute(JobsTable.jobRescheduleMany(ids: rescheduled.map(\.0), nextRunTimes: next))
        }
        return followUps
    }

    private func submit(_ followUps: [(CommittedFiring, @Sendable (CommittedFiring) -> Void)]) {
        for (firing, work) in followUps where !afterCommit.submit({ work(firing) }) {
            logger.error(
                "after-commit work refused: the executor's queue is full",
                metadata: ["job.id": "\(firing.identity.jobID)", "run.id": "\(firing.runID)"])
        }
    }
}
