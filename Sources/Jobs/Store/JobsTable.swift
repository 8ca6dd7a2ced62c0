import Chronology
import JSON
import Postgres
import SQLBuilding
import Scheduling

extension JobState: PostgresTextEnum {}
extension JobOrigin: PostgresTextEnum {}
extension OverlapPolicy: PostgresTextEnum {}
extension RunStatus: PostgresTextEnum {}

/// The `jobs` table: its columns, its one row decoder and every statement on it. Failure
/// records are rows of it too; their own statements are ``FailureRecords``'.
enum JobsTable {
    static let columns: SQL = """
        job_id, handler, kwargs, requested_when, start_at, interval_us, misfire_grace_us, state, next_run_time,
        origin, created_at, updated_at, priority, max_attempts, retry_delay_us, overlap, cron_expression, cron_zone,
        start_date, end_date, max_runs, jitter_us, runs_fired
        """

    /// ``columns`` and the status of the job's latest run: for jobs as the API shows them. Not
    /// for firing, which has no use for it (a probe of `runs` per claimed job).
    static let shownColumns: SQL = """
        \(columns),
        (SELECT status FROM runs WHERE runs.job_id = jobs.job_id ORDER BY scheduled_for DESC, id DESC LIMIT 1) AS last_status
        """

    /// Every change that can move a `next_run_time` sends this in its transaction, so every
    /// scheduler on the database wakes when it commits.
    static let changesChannel = "kairos_jobs"

    static func decode(_ row: PostgresRow) throws -> Job {
        let start = try row.decode(Timestamp.self, column: "start_at")
        let trigger: Trigger
        if let expression = try row.decode(String?.self, column: "cron_expression") {
            let zone = try row.decode(String.self, column: "cron_zone")
            do {
                let schedule = CronSchedule(expression: try CronExpressionCache.expression(parsing: expression), zone: try TimeZoneDatabase.system.rules(named: zone))
                trigger = .cron(schedule, from: start)
            } catch {
                throw PostgresError(kind: .decoding, message: "the cron schedule \"\(expression)\" in \(zone) cannot be read: \(error.message)")
            }
        } else {
            trigger = try row.decode(Int64?.self, column: "interval_us").map { Trigger.every(Period(microseconds: $0), from: start) }
                ?? .once(at: start)
        }
        let kwargs = try row.decode(JSONValue.self, column: "kwargs")
        let rank = try row.decode(Int.self, column: "priority")
        guard let priority = FlowPriority(rank: rank) else {
            throw PostgresError(kind: .decoding, message: "column \"priority\" holds \(rank), not a priority rank 0 to 4")
        }
        guard let kwargs = kwargs.objectValue else {
            throw PostgresError(kind: .decoding, message: "column \"kwargs\" holds \(kwargs.kindDescription), not an object")
        }
        return Job(
            id: try row.decode(String.self, column: "job_id"),
            handler: try row.decode(String.self, column: "handler"),
            kwargs: kwargs,
            trigger: trigger,
            requestedWhen: try row.decode(Timestamp?.self, column: "requested_when"),
            misfireGraceTime: try row.decode(Int64?.self, column: "misfire_grace_us").map(Period.init(microseconds:)),
            state: try row.decode(JobState.self, column: "state"),
            nextRunTime: try row.decode(Timestamp?.self, column: "next_run_time"),
            origin: try row.decode(JobOrigin.self, column: "origin"),
            createdAt: try row.decode(Timestamp.self, column: "created_at"),
            updatedAt: try row.decode(Timestamp.self, column: "updated_at"),
            policy: WorkPolicy(
                priority: priority, maxAttempts: try row.decode(Int.self, column: "max_attempts"),
                retryDelay: Period(microseconds: try row.decode(Int64.self, column: "retry_delay_us")),
                overlap: try row.decode(OverlapPolicy.self, column: "overlap")),
            controls: ScheduleControls(
                startDate: try row.decode(Timestamp?.self, column: "start_date"), endDate: try row.decode(Timestamp?.self, column: "end_date"),
                maxRuns: try row.decode(Int?.self, column: "max_runs"), jitter: try row.decode(Int64?.self, column: "jitter_us").map(Period.init(microseconds:))),
            runsFired: try row.decode(Int64.self, column: "runs_fired"),
            lastStatus: row.rows.position(ofColumn: "last_status") == nil ? nil : try row.decode(RunStatus?.self, column: "last_status"))
    }

    // MARK: Reading

    static func jobSelect(id: String) -> SQL {
        "SELECT \(shownColumns) FROM jobs WHERE job_id = \(id)"
    }

    /// The job, locked until the transaction ends (a firing of it under way is waited for), with
    /// the judging time as `now` and the database's own as `claimed_clock`, read once the lock
    /// is held: one round trip for what a resume or a manual run needs.
    static func jobSelectForUpdate(id: String, clock: JobClock) -> SQL {
        "SELECT \(columns), \(clock.sqlNow) AS now, clock_timestamp() AS claimed_clock FROM jobs WHERE job_id = \(id) FOR UPDATE"
    }

    /// A transaction-long lock on a job id, whether or not the job exists.
    static func jobIDLock(id: String) -> SQL {
        "SELECT pg_advisory_xact_lock(hashtextextended(\(id), 7036))"
    }

    static func jobKwargs(id: String) -> SQL {
        "SELECT kwargs FROM jobs WHERE job_id = \(id)"
    }

    static func jobKwargsForUpdate(id: String) -> SQL {
        "SELECT handler, kwargs FROM jobs WHERE job_id = \(id) FOR UPDATE"
    }

    static func jobSelectManyForUpdate(ids: [String]) -> SQL {
        "SELECT \(columns) FROM jobs WHERE job_id = ANY(\(ids)) FOR UPDATE"
    }

    private static func listingCondition(_ listing: JobStore.Listing) -> SQL {
        switch listing {
        case .all: "state <> 'finished'"
        case .failed: FailureRecords.isRecord
        case .user: "origin = 'api' AND state <> 'finished'"
        case .finished: "state = 'finished'"
        }
    }

    /// The jobs of the query's listing, prefix and state. The prefix is a range of the
    /// `jobs_id_bytes` index (bytewise, whatever the database's collation) that
    /// `starts_with` then checks exactly: every id of at most ``JobDefinition/maximumIDLength``
    /// bytes that starts with the prefix sorts at or below the prefix followed by that many
    /// bytes' worth of U+10FFFF, the greatest character.
    private static func matching(_ query: JobQuery) -> SQL {
        var conditions = [listingCondition(query.listing)]
        if let prefix = query.idPrefix {
            let ceiling = prefix + String(repeating: "\u{10FFFF}", count: (JobDefinition.maximumIDLength + 3) / 4)
            conditions.append("job_id COLLATE \"C\" >= \(prefix) AND job_id COLLATE \"C\" <= \(ceiling) AND starts_with(job_id, \(prefix))")
        }
        if let state = query.state { conditions.append("state = \(state)") }
        if let failed = query.failedJobID { conditions.append("kwargs->>'failed_job_id' = \(failed)") }
        return SQL.joined(conditions.map { "(\($0))" }, separator: " AND ")
    }

    /// A page of the query's jobs in `job_id` order: after `after`, then skipping `offset`.
    static func jobList(_ query: JobQuery) -> SQL {
        let keyset: SQL = query.after.map { "AND job_id > \($0)" } ?? ""
        return "SELECT \(shownColumns) FROM jobs WHERE \(matching(query)) \(keyset) ORDER BY job_id LIMIT \(Int64(query.limit)) OFFSET \(Int64(query.offset))"
    }

    /// How many jobs the query matches, whatever its page.
    static func jobCount(_ query: JobQuery) -> SQL {
        "SELECT count(*) AS n FROM jobs WHERE \(matching(query))"
    }

    /// The latest `count` runs of each job, newest first: the dashboard's strips.
    static func recentSlots(ids: [String], count: Int) -> SQL {
        """
        SELECT r.job_id, r.scheduled_for, r.coalesced_slots, r.cause, r.status
        FROM unnest(\(ids)::text[]) AS j(id)
        CROSS JOIN LATERAL (
            SELECT job_id, scheduled_for, coalesced_slots, cause, status FROM runs
            WHERE runs.job_id = j.id ORDER BY scheduled_for DESC, id DESC LIMIT \(Int64(count))
        ) r
        """
    }

    /// Running jobs due by `through`, earliest first: whose firings the next hours hold. A scan of `jobs_due` that stops at `limit`.
    static func jobsDueBy(_ through: Timestamp, limit: Int) -> SQL {
        """
        SELECT \(columns) FROM jobs WHERE state = 'running' AND next_run_time <= \(through)
        ORDER BY next_run_time, job_id LIMIT \(Int64(limit))
        """
    }

    // MARK: Writing

    /// What ``jobUpsertMany(_:returning:)`` sends back of each job, besides `created`.
    enum UpsertReturning {
        /// The whole job, as ``decode(_:)`` reads it.
        case wholeJobs
        /// `job_id` and `next_run_time`: what a bulk write answers.
        case summaries
    }

    /// Inserts or replaces jobs, many in one statement; each row comes back with `created`.
    static func jobUpsertMany(_ writes: [JobWrite], returning: UpsertReturning = .wholeJobs) -> SQL {
        let columns: SQL = returning == .wholeJobs ? shownColumns : "job_id, next_run_time"
        return
        """
        INSERT INTO jobs (job_id, handler, kwargs, requested_when, start_at, interval_us, misfire_grace_us, state,
                          next_run_time, origin, priority, max_attempts, retry_delay_us, overlap, cron_expression, cron_zone,
                          start_date, end_date, max_runs, jitter_us)
        SELECT * FROM unnest(\(writes.map(\.id)), \(writes.map(\.handler)), \(writes.map(\.kwargs)), \(writes.map(\.requestedWhen)),
                             \(writes.map(\.trigger.start)), \(writes.map(\.trigger.period?.microseconds)),
                             \(writes.map(\.misfireGraceTime?.microseconds)), \(writes.map(\.state.rawValue)),
                             \(writes.map(\.nextRunTime)), \(writes.map(\.origin.rawValue)),
                             \(writes.map(\.policy.priority.rank)), \(writes.map { Int32($0.policy.maxAttempts) }),
                             \(writes.map(\.policy.retryDelay.microseconds)), \(writes.map(\.policy.overlap.rawValue)),
                             \(writes.map(\.trigger.cron?.expression.text)), \(writes.map(\.trigger.cron?.zone.name)),
                             \(writes.map(\.controls.startDate)), \(writes.map(\.controls.endDate)),
                             \(writes.map { $0.controls.maxRuns.map(Int32.init) }), \(writes.map(\.controls.jitter?.microseconds)))
        ON CONFLICT (job_id) DO UPDATE SET
            handler = excluded.handler, kwargs = excluded.kwargs, requested_when = excluded.requested_when,
            start_at = excluded.start_at, interval_us = excluded.interval_us,
            misfire_grace_us = excluded.misfire_grace_us, state = excluded.state,
            next_run_time = excluded.next_run_time, origin = excluded.origin, priority = excluded.priority,
            max_attempts = excluded.max_attempts, retry_delay_us = excluded.retry_delay_us, overlap = excluded.overlap,
            cron_expression = excluded.cron_expression, cron_zone = excluded.cron_zone,
            start_date = excluded.start_date, end_date = excluded.end_date, max_runs = excluded.max_runs,
            jitter_us = excluded.jitter_us, runs_fired = 0, updated_at = clock_timestamp()
        RETURNING \(columns), (xmax = 0) AS created
        """
    }

    /// A default job's handler, kwargs, grace time and work policy, its schedule left as it is.
    static func jobUpdateDefinitionMany(_ definitions: [JobDefinition]) -> SQL {
        """
        UPDATE jobs SET handler = u.handler, kwargs = u.kwargs, misfire_grace_us = u.misfire_grace_us,
            priority = u.priority, max_attempts = u.max_attempts, retry_delay_us = u.retry_delay_us, overlap = u.overlap,
            origin = 'default_jobs', updated_at = clock_timestamp()
        FROM unnest(\(definitions.map(\.id)), \(definitions.map(\.handler.name)), \(definitions.map { JSONValue.object($0.kwargs) }),
                    \(definitions.map(\.misfireGraceTime?.microseconds)), \(definitions.map(\.policy.priority.rank)),
                    \(definitions.map { Int32($0.policy.maxAttempts) }), \(definitions.map(\.policy.retryDelay.microseconds)),
                    \(definitions.map(\.policy.overlap.rawValue)))
             AS u(job_id, handler, kwargs, misfire_grace_us, priority, max_attempts, retry_delay_us, overlap)
        WHERE jobs.job_id = u.job_id
        """
    }

    static func jobSetState(id: String, state: JobState, nextRunTime: Timestamp?) -> SQL {
        """
        UPDATE jobs SET state = \(state), next_run_time = \(nextRunTime), updated_at = clock_timestamp()
        WHERE job_id = \(id) RETURNING \(shownColumns)
        """
    }

    static func jobDelete(id: String) -> SQL {
        "DELETE FROM jobs WHERE job_id = \(id)"
    }

    static let jobNotifyChanged: SQL = "SELECT pg_notify(\(changesChannel), '')"

    /// The wake-up, only when one of these jobs holds a buffered run: a write can make one
    /// releasable at once (a paused job replaced by a running one) whatever its next run time.
    static func jobNotifyIfBuffered(ids: [String]) -> SQL {
        "SELECT pg_notify(\(changesChannel), '') FROM runs WHERE job_id = ANY(\(ids)) AND status = 'buffered' LIMIT 1"
    }

    // MARK: The scheduler's

    /// Due jobs, locked, skipping those another scheduler holds, with the judging time as `now`
    /// and the database's own time as `claimed_clock` (the same unless a test clock judges).
    /// One "now" for the whole batch, from the database unless a test clock gives it, so
    /// replicas with skewed clocks agree on what is due.
    static func jobClaimDue(clock: JobClock, limit: Int) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT \(columns), clock.now, clock_timestamp() AS claimed_clock
        FROM jobs, clock
        WHERE state = 'running' AND next_run_time <= clock.now
          AND (SELECT state FROM service_state) = 'running'
        ORDER BY next_run_time
        LIMIT \(limit)
        FOR UPDATE OF jobs SKIP LOCKED
        """
    }

    /// Pauses jobs that cannot be fired as stored (see ``UnreadableJob``), so they stop coming due.
    static func jobPauseMany(ids: [String]) -> SQL {
        "UPDATE jobs SET state = 'paused', next_run_time = NULL, updated_at = clock_timestamp() WHERE job_id = ANY(\(ids))"
    }

    /// Each job's next run time after a firing, and how many firings it carried out (0 or 1);
    /// none left, or `max_runs` reached, means it has finished.
    static func jobRescheduleMany(ids: [String], nextRunTimes: [Timestamp?], fired: [Int32]) -> SQL {
        """
        UPDATE jobs SET runs_fired = runs_fired + u.fired,
            next_run_time = CASE WHEN max_runs IS NOT NULL AND runs_fired + u.fired >= max_runs THEN NULL ELSE u.next_run_time END,
            state = CASE WHEN u.next_run_time IS NULL OR (max_runs IS NOT NULL AND runs_fired + u.fired >= max_runs)
                         THEN 'finished' ELSE 'running' END
        FROM unnest(\(ids), \(nextRunTimes), \(fired)) AS u(job_id, next_run_time, fired)
        WHERE jobs.job_id = u.job_id
        """
    }

    /// The oldest `next_run_time` already due, the service's state and the judging time: how far
    /// behind firing is (it grows while firing is stuck).
    static func jobOldestDue(clock: JobClock) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT (SELECT min(next_run_time) FROM jobs WHERE state = 'running' AND next_run_time <= clock.now) AS oldest,
               (\(ServiceStateTable.serviceStateSelect)) AS service, clock.now
        FROM clock
        """
    }

    /// The earliest `next_run_time`, the service's state and the judging time: how long the
    /// scheduler may sleep.
    /// The earliest due time of a running job; how many (up to `limit`) are due within `window`
    /// of it; the service's state and the clock's now.
    static func jobEarliestDue(clock: JobClock, countingWithin window: Duration, upTo limit: Int) -> SQL {
        """
        WITH earliest AS (SELECT min(next_run_time) AS at FROM jobs WHERE state = 'running')
        SELECT earliest.at AS next_run_time,
               (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state = 'running'
                  AND next_run_time <= earliest.at + make_interval(secs => \(window.timeInterval)) LIMIT \(Int64(limit))) together) AS due_together,
               (\(ServiceStateTable.serviceStateSelect)) AS service, \(clock.sqlNow) AS now
        FROM earliest
        """
    }
}
