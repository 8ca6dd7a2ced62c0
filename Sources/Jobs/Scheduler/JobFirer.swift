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
    /// Rung once a batch that recorded deliveries has committed: the dispatcher takes them up.
    public let deliveries: DeliveryDoorbell
    let logger: Logger

    public init(
        pool: PostgresPool, handlers: HandlerRegistry = .standard, clock: JobClock = .database,
        afterCommit: AfterCommitExecutor = AfterCommitExecutor(), deliveries: DeliveryDoorbell = DeliveryDoorbell(),
        logger: Logger = Logger(label: "kairos.firer")
    ) {
        self.pool = pool
        self.handlers = handlers
        self.clock = clock
        self.afterCommit = afterCommit
        self.deliveries = deliveries
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
        /// Firings the job's overlap policy skipped or buffered.
        public var overlapped = 0
        public var flowsPosted = 0
        /// The judging time: the database's clock unless a test gave one.
        public var now: Timestamp?
        /// `now - scheduled time` of each firing, in microseconds.
        public var lateness: [Int64] = []
    }

    /// Fires up to `limit` jobs due by the clock.
    public func fireDue(limit: Int = 500) throws -> Report {
        var committed = Committed()
        let report = try pool.withTransaction { tx in
            let rows = try tx.query(JobsTable.jobClaimDue(clock: clock, limit: limit))
            var report = Report(claimed: rows.count)
            guard !rows.isEmpty else { return report }
            let now = try rows[0].decode(Timestamp.self, column: "now")
            let started = try rows[0].decode(Timestamp.self, column: "claimed_clock")
            report.now = now
            var due: [(job: Job, at: Timestamp)] = []
            var unreadable: [UnreadableJob] = []
            for row in rows {
                do {
                    // The claim asked for next_run_time <= now, so it is there.
                    due.append((try JobsTable.decode(row), try row.decode(Timestamp.self, column: "next_run_time")))
                } catch {
                    unreadable.append(try UnreadableJob(row, error: error))
                }
            }
            let overlaps = try overlapDecisions(for: due.map(\.job), on: tx)
            let context = filterContext(tx)
            let records = due.map { job, at in
                FiringPlan.scheduled(job, due: at, now: now, overlap: overlaps[job.id] ?? .fire, handlers: handlers, context: context)
            }
            committed = try write(records, unreadable: unreadable, claimedAt: now, startedAt: started, on: tx, report: &report)
            return report
        }
        finish(committed)
        if report.claimed > 0 {
            logger.info(
                "batch fired",
                metadata: [
                    "claimed": "\(report.claimed)", "succeeded": "\(report.succeeded)", "failed": "\(report.failed)",
                    "missed": "\(report.missed)", "skipped": "\(report.skipped)", "overlapped": "\(report.overlapped)",
                    "flows": "\(report.flowsPosted)", "lateness_max_ms": "\(Double(report.lateness.max() ?? 0) / 1000)",
                ])
        }
        return report
    }

    /// Fires `jobID` once now, whatever its schedule, which stays as it is, under its overlap
    /// policy. Waits for a firing of the same job under way to commit, so a job never has two
    /// executions at once. Nil when there is no such job.
    public func runNow(_ jobID: String) throws -> Run? {
        var committed = Committed()
        let run = try pool.withTransaction { tx -> Run? in
            guard let row = try tx.query(JobsTable.jobSelectForUpdate(id: jobID, clock: clock)).first else { return nil }
            let job = try JobsTable.decode(row)
            let now = try row.decode(Timestamp.self, column: "now")
            let started = try row.decode(Timestamp.self, column: "claimed_clock")
            var report = Report(claimed: 1)
            let overlap = try overlapDecisions(for: [job], on: tx)[job.id] ?? .fire
            let record = FiringPlan.execute(job, slot: now, cause: .manual, overlap: overlap, handlers: handlers, context: filterContext(tx))
            committed = try write([record], unreadable: [], claimedAt: now, startedAt: started, on: tx, report: &report)
            return try tx.query(RunsTable.runSelect(jobID: jobID, scheduledFor: now)).first.map(RunsTable.decode)
        }
        finish(committed)
        return run
    }

    /// The slots of `jobID`'s schedule in `[from, to)` (a past range), each with the run it
    /// already has; unless `dryRun`, fires those without one now, each for its own slot (its
    /// firing identity, so a slot is never fired twice), under the job's overlap policy. The
    /// schedule itself is left as it is. Nil when there is no such job.
    ///
    /// - Throws: ``JobDefinitionError`` naming `to` for a range reaching past now or holding
    ///   more than ``Backfill/maximumSlots`` slots.
    public func backfill(_ jobID: String, from: Timestamp, to: Timestamp, dryRun: Bool) throws -> Backfill? {
        var committed = Committed()
        let backfill = try pool.withTransaction { tx -> Backfill? in
            guard let row = try tx.query(JobsTable.jobSelectForUpdate(id: jobID, clock: clock)).first else { return nil }
            let job = try JobsTable.decode(row)
            let now = try row.decode(Timestamp.self, column: "now")
            let started = try row.decode(Timestamp.self, column: "claimed_clock")
            guard to <= now else {
                throw JobDefinitionError("'to': \(to.iso8601) is after now (\(now.iso8601)); a backfill fires past slots only", at: [.key("to")])
            }
            let total = job.schedule.slotCount(from: from, through: to - 1)
            guard total <= Backfill.maximumSlots else {
                throw JobDefinitionError(
                    "'to': [from, to) holds \(total) slots of the job's schedule; a backfill covers at most \(Backfill.maximumSlots): split the range",
                    at: [.key("to")])
            }
            var existing: [Timestamp: RunStatus] = [:]
            for run in try tx.query(RunsTable.runStatuses(jobID: jobID, from: from, to: to)) {
                existing[try run.decode(Timestamp.self, column: "scheduled_for")] = try run.decode(RunStatus.self, column: "status")
            }
            var slots = job.schedule.slots(after: from - 1, count: Backfill.maximumSlots, through: to - 1).map {
                Backfill.Slot(scheduledFor: $0, existingStatus: existing[$0], outcome: nil)
            }
            let missing = slots.indices.filter { slots[$0].existingStatus == nil }
            guard !dryRun, !missing.isEmpty else { return Backfill(slots: slots, dryRun: dryRun) }
            let open = try tx.query(RunsTable.jobWorkOpen(ids: [jobID]))[0]
            let decisions = Backfill.decisions(
                for: missing.count, policy: job.policy.overlap, busy: try open.decode(Bool.self, column: "busy"),
                buffered: try open.decode(Bool.self, column: "buffered"))
            let context = filterContext(tx)
            let records = zip(missing, decisions).map { index, decision in
                FiringPlan.execute(job, slot: slots[index].scheduledFor, cause: .backfill, overlap: decision, handlers: handlers, context: context)
            }
            var report = Report(claimed: records.count)
            committed = try write(records, unreadable: [], claimedAt: now, startedAt: started, on: tx, report: &report)
            for (index, record) in zip(missing, records) { slots[index].outcome = record.outcome }
            return Backfill(slots: slots, dryRun: false)
        }
        finish(committed)
        if let backfill, !dryRun {
            logger.info("backfilled", metadata: ["job.id": "\(jobID)", "fired": "\(backfill.slots.filter { $0.outcome != nil }.count)"])
        }
        return backfill
    }

    /// Carries out up to `limit` firings that `buffer_one` held, whose job's previous work has
    /// ended since: each runs its handler now for its own slot (its identity), as a firing does.
    /// Returns how many it carried out.
    @discardableResult
    public func releaseBuffered(limit: Int = 100) throws -> Int {
        var committed = Committed()
        let released = try pool.withTransaction { tx -> Int in
            let rows = try tx.query(RunsTable.bufferedReleasable(limit: limit, clock: clock))
            guard !rows.isEmpty else { return 0 }
            let now = try rows[0].decode(Timestamp.self, column: "now")
            let started = try rows[0].decode(Timestamp.self, column: "claimed_clock")
            let context = filterContext(tx)
            var records: [FiringRecord] = []
            for row in rows {
                // A job that cannot be read stays buffered; the scheduler pauses it at its next firing.
                guard let job = try? JobsTable.decode(row) else { continue }
                var record = FiringPlan.execute(
                    job, slot: try row.decode(Timestamp.self, column: "buffered_slot"), cause: .schedule, handlers: handlers, context: context)
                record.releasing = try row.decode(Int64.self, column: "run_id")
                records.append(record)
            }
            var report = Report(claimed: records.count)
            committed = try write(records, unreadable: [], claimedAt: now, startedAt: started, on: tx, report: &report)
            return records.count
        }
        finish(committed)
        if released > 0 { logger.info("buffered firings carried out", metadata: ["count": "\(released)"]) }
        return released
    }

    /// What one step of the settle sweep did, and where the next one starts.
    public struct SettleSweepStep: Sendable, Equatable {
        public var settled: Int
        public var examined: Int
        /// The last pending run examined; nil when the step reached the end (the next starts over).
        public var cursor: FiringIdentity?

        public init(settled: Int, examined: Int, cursor: FiringIdentity?) {
            self.settled = settled
            self.examined = examined
            self.cursor = cursor
        }
    }

    /// Settles what it can of the next `examining` pending runs after `cursor`: a bounded step of
    /// the sweep for runs whose last flow ended in a process that died before settling it
    /// (see ``RunsTable/runSettleSweep(after:examining:)``).
    public func settleSweepStep(after cursor: FiringIdentity?, examining: Int = 2000) throws -> SettleSweepStep {
        try pool.withConnection { connection in
            let row = try connection.query(RunsTable.runSettleSweep(after: cursor, examining: examining))[0]
            let examined = try row.decode(Int.self, column: "examined")
            var next: FiringIdentity?
            if examined == examining, let jobID = try row.decode(String?.self, column: "last_job_id") {
                next = FiringIdentity(jobID: jobID, scheduledFor: try row.decode(Timestamp.self, column: "last_scheduled_for"))
            }
            return SettleSweepStep(settled: try row.decode(Int.self, column: "n"), examined: examined, cursor: next)
        }
    }

    /// Settles every pending run whose flows have all ended, in bounded steps from the first to
    /// the last. Returns how many it settled.
    @discardableResult
    public func settlePendingRuns(examining: Int = 2000) throws -> Int {
        var cursor: FiringIdentity?
        var settled = 0
        repeat {
            let step = try settleSweepStep(after: cursor, examining: examining)
            settled += step.settled
            cursor = step.cursor
        } while cursor != nil
        return settled
    }

    /// What each job's overlap policy says of a firing now; allow-all jobs are not looked up.
    private func overlapDecisions(for jobs: [Job], on tx: PostgresConnection) throws -> [String: OverlapDecision] {
        let policies = Dictionary(jobs.filter { $0.policy.overlap != .allowAll }.map { ($0.id, $0.policy.overlap) }, uniquingKeysWith: { a, _ in a })
        guard !policies.isEmpty else { return [:] }
        var decisions: [String: OverlapDecision] = [:]
        for row in try tx.query(RunsTable.jobWorkOpen(ids: Array(policies.keys))) {
            let id = try row.decode(String.self, column: "job_id")
            guard let policy = policies[id] else { continue }
            decisions[id] = OverlapDecision.decide(
                policy, busy: try row.decode(Bool.self, column: "busy"), buffered: try row.decode(Bool.self, column: "buffered"))
        }
        return decisions
    }

    /// What a committed batch leaves to do: handlers' after-commit work, and runs to settle.
    private struct Committed {
        var followUps: [(CommittedFiring, @Sendable (CommittedFiring) -> Void)] = []
        /// Jobs whose earlier runs lost their unclaimed flows to `cancel_other`: settled once
        /// the batch has committed (see ``RunsTable/runSettle(where:)``).
        var cancelled: [String] = []
        var deliveriesRecorded = 0
    }

    private func finish(_ committed: Committed) {
        submit(committed.followUps)
        if committed.deliveriesRecorded > 0 { deliveries.ring() }
        guard !committed.cancelled.isEmpty else { return }
        do {
            try pool.withConnection { connection in _ = try connection.query(RunsTable.runSettleJobs(ids: committed.cancelled)) }
        } catch {
            // The scheduler's sweep settles them.
            logger.warning("runs cancelled by a later firing not settled yet", metadata: ["error": "\(error)"])
        }
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
    ) throws -> Committed {
        // A run that already exists means this scheduled time was fired before (a job replaced
        // with an overlapping schedule): its identity is taken, so nothing is posted again.
        let fresh = records.filter { $0.releasing == nil }.map(\.runRow) + unreadable.map(\.runRow)
        // By firing identity: a backfill records several slots of one job in one batch.
        var runIDs = fresh.isEmpty ? [:] : Dictionary(
            try tx.query(RunsTable.runRecordMany(fresh, claimedAt: now, startedAt: startedAt)).map {
                (FiringIdentity(jobID: try $0.decode(String.self, column: "job_id"), scheduledFor: try $0.decode(Timestamp.self, column: "scheduled_for")),
                 try $0.decode(Int64.self, column: "id"))
            },
            uniquingKeysWith: { first, _ in first })
        let releases = records.compactMap { record in record.releasing.map { (id: $0, row: record.runRow) } }
        for release in releases { runIDs[FiringIdentity(jobID: release.row.jobID, scheduledFor: release.row.scheduledFor)] = release.id }
        if !releases.isEmpty { try tx.execute(RunsTable.runReleaseMany(releases, startedAt: startedAt)) }

        var flows = FlowColumns()
        var deliveries: [(runID: Int64, job: String, slot: Timestamp, request: DeliveryRequest)] = []
        var failures: [FailureRecord] = []
        var committed = Committed()
        for record in records {
            guard let runID = runIDs[record.identity] else {
                report.skipped += 1
                logger.info("firing skipped: the job already fired at this time",
                            metadata: ["job.id": "\(record.job.id)", "scheduled_for": "\(record.slot.iso8601)"])
                continue
            }
            switch record.outcome {
            case .succeeded: report.succeeded += 1
            case .failed: report.failed += 1
            case .missed: report.missed += 1
            case .skipped, .buffered: report.overlapped += 1
            }
            if record.cancelsPrevious { committed.cancelled.append(record.job.id) }
            report.lateness.append(now - record.slot)
            logger.debug(
                "fired",
                metadata: [
                    "job.id": "\(record.job.id)", "scheduled_for": "\(record.slot.iso8601)", "outcome": "\(record.outcome.rawValue)",
                    "coalesced_slots": "\(record.coalescedSlots)", "flows": "\(record.flows.count)", "run.id": "\(runID)",
                ])
            for (position, flow) in record.flows.enumerated() {
                flows.append(flow, job: record.job.id, slot: record.slot, position: position, policy: record.job.policy)
            }
            if let delivery = record.delivery { deliveries.append((runID, record.job.id, record.slot, delivery)) }
            if let failure = record.failureRecord {
                logger.warning("job failed", metadata: ["job.id": "\(record.job.id)", "error": "\(failure.error)"])
                failures.append(failure)
            }
            if let afterCommit = record.afterCommit {
                committed.followUps.append((CommittedFiring(identity: record.identity, runID: runID), afterCommit))
            }
        }
        // Every unreadable job is paused, recorded or not: one whose slot already has a run
        // would otherwise stay due and be claimed again on every loop.
        for job in unreadable {
            logger.error("job cannot be read as stored; paused", metadata: ["job.id": "\(job.id)", "error": "\(job.error)"])
            guard runIDs[FiringIdentity(jobID: job.id, scheduledFor: job.due)] != nil else { continue }
            report.failed += 1
            failures.append(job.failureRecord)
        }
        if !unreadable.isEmpty {
            try tx.execute(JobsTable.jobPauseMany(ids: unreadable.map(\.id)))
        }
        // Before this batch posts its own, which are not the earlier work to cancel.
        if !committed.cancelled.isEmpty {
            try tx.execute(FlowsTable.flowCancelUnclaimed(jobIDs: committed.cancelled))
            try tx.execute(DeliveriesTable.deliveryCancelWaiting(jobIDs: committed.cancelled))
        }
        if !deliveries.isEmpty {
            try tx.execute(DeliveriesTable.deliveryInsertMany(deliveries, dueAt: now))
            committed.deliveriesRecorded = deliveries.count
        }
        // In statements of at most about 64 MiB of arguments: a batch of firings each near its
        // own byte cap must not make one parameter past PostgreSQL's 1 GB.
        for chunk in flows.chunked(maximumArgumentBytes: 64 << 20) {
            try tx.execute(FlowsTable.flowInsertMany(chunk, availableAt: now))
            report.flowsPosted += chunk.count
        }
        if !flows.isEmpty { try tx.execute(FlowsTable.flowNotify(FlowNotice(names: flows.names))) }
        if !failures.isEmpty {
            try tx.execute(FailureRecords.failureRecordInsertMany(failures))
        }

        let rescheduled = records.compactMap { record in record.schedule.map { (record.job.id, $0) } }
        if !rescheduled.isEmpty {
            let next: [Timestamp?] = rescheduled.map {
                if case .next(let time) = $0.1 { return time }
                return nil
            }
            // A firing carried out (or held by buffer_one, to be) counts toward `max_runs`.
            let fired: [Int32] = records.compactMap { record in
                record.schedule.map { _ in runIDs[record.identity] != nil && [.succeeded, .failed, .buffered].contains(record.outcome) ? 1 : 0 }
            }
            try tx.execute(JobsTable.jobRescheduleMany(ids: rescheduled.map(\.0), nextRunTimes: next, fired: fired))
        }
        return committed
    }

    private func submit(_ followUps: [(CommittedFiring, @Sendable (CommittedFiring) -> Void)]) {
        for (firing, work) in followUps where !afterCommit.submit({ work(firing) }) {
            logger.error(
                "after-commit work refused: the executor's queue is full",
                metadata: ["job.id": "\(firing.identity.jobID)", "run.id": "\(firing.runID)"])
        }
    }
}
