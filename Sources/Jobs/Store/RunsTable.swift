import Chronology
import Postgres
import SQLBuilding

extension RunCause: PostgresTextEnum {}
extension RunOutcome: PostgresTextEnum {}

/// The `runs` table: one row per firing, unique per job and scheduled time.
enum RunsTable {
    static let columns: SQL = """
        id, job_id, scheduled_for, coalesced_slots, cause, outcome, claimed_at, started_at, finished_at, flows_posted, error, status
        """

    static func decode(_ row: PostgresRow) throws -> Run {
        Run(
            id: try row.decode(Int64.self, column: "id"),
            jobID: try row.decode(String.self, column: "job_id"),
            scheduledFor: try row.decode(Timestamp.self, column: "scheduled_for"),
            coalescedSlots: try row.decode(Int64.self, column: "coalesced_slots"),
            cause: try row.decode(RunCause.self, column: "cause"),
            outcome: try row.decode(RunOutcome.self, column: "outcome"),
            claimedAt: try row.decode(Timestamp.self, column: "claimed_at"),
            startedAt: try row.decode(Timestamp?.self, column: "started_at"),
            finishedAt: try row.decode(Timestamp?.self, column: "finished_at"),
            flowsPosted: try row.decode(Int.self, column: "flows_posted"),
            error: try row.decode(String?.self, column: "error"),
            status: try row.decode(RunStatus.self, column: "status"))
    }

    /// Records a batch of firings judged at `claimedAt`, whose handlers started at `startedAt`
    /// (the database's clock). A run final at once (no flows to wait for) is finished now. A
    /// firing whose (job, scheduled time) already has a run is left out: its identity is taken.
    /// Returns `job_id` and `id` of each run recorded.
    static func runRecordMany(_ records: [RunRow], claimedAt: Timestamp, startedAt: Timestamp) -> SQL {
        """
        INSERT INTO runs (job_id, scheduled_for, coalesced_slots, cause, outcome, claimed_at, started_at,
                          flows_posted, error, status, finished_at)
        SELECT r.job_id, r.scheduled_for, r.coalesced_slots, r.cause, r.outcome, \(claimedAt),
               CASE WHEN r.outcome IN ('missed', 'skipped', 'buffered') THEN NULL ELSE \(startedAt)::timestamptz END,
               r.flows_posted, r.error, r.status,
               CASE WHEN r.status IN ('pending', 'buffered') THEN NULL ELSE clock_timestamp() END
        FROM unnest(\(records.map(\.jobID)), \(records.map(\.scheduledFor)), \(records.map(\.coalescedSlots)),
                    \(records.map(\.cause.rawValue)), \(records.map(\.outcome.rawValue)),
                    \(records.map(\.flowsPosted)), \(records.map(\.error)), \(records.map(\.status.rawValue)))
             AS r(job_id, scheduled_for, coalesced_slots, cause, outcome, flows_posted, error, status)
        ON CONFLICT (job_id, scheduled_for) DO NOTHING
        RETURNING job_id, scheduled_for, id
        """
    }

    /// Buffered runs now carried out: what their firing did, started at `startedAt`.
    static func runReleaseMany(_ releases: [(id: Int64, row: RunRow)], startedAt: Timestamp) -> SQL {
        let rows = releases.map(\.row)
        return """
            UPDATE runs SET outcome = u.outcome, status = u.status, flows_posted = u.flows_posted, error = u.error,
                started_at = \(startedAt), finished_at = CASE WHEN u.status = 'pending' THEN NULL ELSE clock_timestamp() END
            FROM unnest(\(releases.map(\.id)), \(rows.map(\.outcome.rawValue)), \(rows.map(\.status.rawValue)),
                        \(rows.map(\.flowsPosted)), \(rows.map(\.error)))
                 AS u(id, outcome, status, flows_posted, error)
            WHERE runs.id = u.id AND runs.status = 'buffered'
            """
    }

    // MARK: Runs that follow their flows

    /// Whether a flow of job `jobID` (of its firing at `scheduledFor`, when given), both SQL
    /// expressions, is not final yet. One probe of `flows_open` from its newest end: flows are
    /// claimed and end mostly in id order, so an unfinished one is there (an EXISTS would scan
    /// from the oldest, past every flow that already ended).
    private static func unfinishedFlow(job jobID: SQL, scheduledFor: SQL? = nil) -> SQL {
        let slot: SQL = scheduledFor.map { "AND f.scheduled_for = \($0)" } ?? ""
        return """
            ((SELECT f.id FROM flows f WHERE f.job_id = \(jobID) \(slot) AND f.state IN ('unclaimed', 'claimed')
              ORDER BY f.job_id DESC, f.scheduled_for DESC, f.id DESC LIMIT 1) IS NOT NULL)
            """
    }

    /// Whether a run (an SQL row of `runs`) has a flow not final yet.
    private static func hasOpenFlows(_ run: SQL) -> SQL {
        unfinishedFlow(job: "\(run).job_id", scheduledFor: "\(run).scheduled_for")
    }

    /// Whether any flow or delivery of job `jobID` (an SQL expression) is not final yet: the
    /// job's previous work is not done.
    static func jobIsBusy(_ jobID: SQL) -> SQL {
        "(\(unfinishedFlow(job: jobID)) OR \(DeliveriesTable.jobHasOpenDelivery(jobID)))"
    }

    /// For each of `jobIDs`: `busy` (see ``jobIsBusy(_:)``) and `buffered` (a firing waits).
    static func jobWorkOpen(ids: [String]) -> SQL {
        """
        SELECT j.id AS job_id, \(jobIsBusy("j.id")) AS busy,
               EXISTS (SELECT 1 FROM runs r WHERE r.job_id = j.id AND r.status = 'buffered') AS buffered
        FROM unnest(\(ids)) AS j(id)
        """
    }

    /// Settles pending runs in `scope` (a condition on `runs`) whose flows are all final (not those
    /// with a delivery, which settles its run itself: ``DeliveriesTable``): `failed`
    /// if any failed, else `cancelled` if any was trashed, else `succeeded`, finished now. Run
    /// after the transaction that ended a flow has committed, it cannot miss the last one: of
    /// two that end a run's last two flows at once, the later to commit sees both. The runs are
    /// locked in id order (two settles over the same runs cannot deadlock); `skippingLocked`
    /// makes it a sweep, which never waits for another settle. When a settled run's job has a buffered firing,
    /// schedulers are woken to carry it out. Returns the number settled as `n`.
    /// `prelude` adds CTEs before `settled` (ending with a comma) and `reporting` columns after
    /// the counts, for the sweep.
    private static func runSettle(
        where scope: SQL, skippingLocked: Bool = false, prelude: SQL = "", reporting: SQL = ""
    ) -> SQL {
        let lock: SQL = skippingLocked ? "FOR UPDATE SKIP LOCKED" : "FOR UPDATE"
        return """
            WITH \(prelude) settled AS (
                UPDATE runs SET finished_at = clock_timestamp(), status = CASE
                    WHEN EXISTS (SELECT 1 FROM flows f WHERE f.job_id = runs.job_id AND f.scheduled_for = runs.scheduled_for
                                                         AND f.state = 'failed') THEN 'failed'
                    WHEN EXISTS (SELECT 1 FROM flows f WHERE f.job_id = runs.job_id AND f.scheduled_for = runs.scheduled_for
                                                         AND f.state = 'trashed') THEN 'cancelled'
                    ELSE 'succeeded' END
                WHERE runs.id IN (
                    SELECT runs.id FROM runs
                    WHERE runs.status = 'pending' AND (\(scope)) AND NOT \(hasOpenFlows("runs")) AND NOT \(DeliveriesTable.runHasDelivery("runs"))
                    ORDER BY runs.id \(lock))
                  AND runs.status = 'pending'
                RETURNING job_id),
            woken AS (
                SELECT pg_notify(\(JobsTable.changesChannel), '') FROM runs
                WHERE status = 'buffered' AND job_id IN (SELECT job_id FROM settled) LIMIT 1)
            SELECT (SELECT count(*) FROM settled) AS n, (SELECT count(*) FROM woken) AS woken \(reporting)
            """
    }

    /// The runs of these firings (job and scheduled time, pairwise).
    static func runSettleFirings(jobIDs: [String], slots: [Timestamp]) -> SQL {
        runSettle(where: "(runs.job_id, runs.scheduled_for) IN (SELECT * FROM unnest(\(jobIDs), \(slots)))")
    }

    static func runSettleJobs(ids: [String]) -> SQL {
        runSettle(where: "runs.job_id = ANY(\(ids))")
    }

    /// One step of the scheduler's sweep, for a run whose last flow ended in a process that died
    /// before it could settle the run: the next `examining` pending runs after `cursor` (by job
    /// and scheduled time, the order of `runs_open`; from the first when nil), settled where
    /// they can be, skipping those being settled. Bounded: a board with hundreds of thousands of
    /// runs still open (flows nobody has claimed yet) costs each step the same, where judging
    /// every pending run at once took a second and held the scheduler's loop that long. Returns
    /// `n` settled, `examined`, and the last run examined (`last_job_id`, `last_scheduled_for`;
    /// null when none was): the next step's cursor.
    static func runSettleSweep(after cursor: FiringIdentity?, examining: Int) -> SQL {
        let from: SQL = cursor.map { "AND (job_id, scheduled_for) > (\($0.jobID), \($0.scheduledFor))" } ?? ""
        return runSettle(
            where: "runs.id IN (SELECT id FROM examined)", skippingLocked: true,
            prelude: """
                examined AS (
                    SELECT id, job_id, scheduled_for FROM runs WHERE status = 'pending' \(from)
                    ORDER BY job_id, scheduled_for LIMIT \(examining)),
                """,
            reporting: """
                , (SELECT count(*) FROM examined) AS examined,
                (SELECT job_id FROM examined ORDER BY job_id DESC, scheduled_for DESC LIMIT 1) AS last_job_id,
                (SELECT scheduled_for FROM examined ORDER BY job_id DESC, scheduled_for DESC LIMIT 1) AS last_scheduled_for
                """)
    }

    /// Jobs with a buffered firing whose previous work is done, locked with that run (skipping
    /// any a firing holds), with the judging time: the firings `buffer_one` held, to carry out now.
    /// Not while the job or the service is paused. (`USING`: the job columns name `job_id` bare.
    /// Both rows are locked, so the run's state is checked again once its lock is held.)
    static func bufferedReleasable(limit: Int, clock: JobClock) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT \(JobsTable.columns), clock.now, clock_timestamp() AS claimed_clock, r.id AS run_id, r.scheduled_for AS buffered_slot
        FROM jobs JOIN runs r USING (job_id), clock
        WHERE r.status = 'buffered' AND jobs.state = 'running' AND NOT \(jobIsBusy("r.job_id"))
          AND (SELECT state FROM service_state) = 'running'
        ORDER BY r.scheduled_for, r.id LIMIT \(limit)
        FOR UPDATE OF jobs, r SKIP LOCKED
        """
    }

    /// How many flows of each of these runs (of job `jobID`, by scheduled time) are in each state.
    static func runFlowCounts(jobID: String, slots: [Timestamp]) -> SQL {
        """
        SELECT scheduled_for, state, count(*)::bigint AS n FROM flows
        WHERE job_id = \(jobID) AND scheduled_for = ANY(\(slots)) GROUP BY scheduled_for, state
        """
    }

    /// A page of a job's runs, newest scheduled time first.
    static func runPage(jobID: String, limit: Int, offset: Int) -> SQL {
        """
        SELECT \(columns) FROM runs WHERE job_id = \(jobID)
        ORDER BY scheduled_for DESC, id DESC LIMIT \(limit) OFFSET \(offset)
        """
    }

    static func runCount(jobID: String) -> SQL {
        "SELECT count(*) AS n FROM runs WHERE job_id = \(jobID)"
    }

    /// The runs a job has in `[from, to)`: which slots a backfill leaves alone.
    static func runStatuses(jobID: String, from: Timestamp, to: Timestamp) -> SQL {
        "SELECT scheduled_for, status FROM runs WHERE job_id = \(jobID) AND scheduled_for >= \(from) AND scheduled_for < \(to)"
    }

    static func runSelect(jobID: String, scheduledFor: Timestamp) -> SQL {
        "SELECT \(columns) FROM runs WHERE job_id = \(jobID) AND scheduled_for = \(scheduledFor)"
    }
}

/// A run about to be recorded.
struct RunRow: Sendable {
    var jobID: String
    var scheduledFor: Timestamp
    var coalescedSlots: Int64
    var cause: RunCause
    var outcome: RunOutcome
    var flowsPosted: Int64
    var error: String?
    var status: RunStatus
}
