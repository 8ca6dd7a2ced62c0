import Chronology
import JSON
import Postgres
import SQLBuilding

/// The `deliveries` table: a run's outside work (a webhook call), at least once, under a lease.
enum DeliveriesTable {
    /// One delivery per run of `runs`, due at `dueAt` (the firing's judging time).
    static func deliveryInsertMany(_ deliveries: [(runID: Int64, job: String, slot: Timestamp, request: DeliveryRequest)], dueAt: Timestamp) -> SQL {
        """
        INSERT INTO deliveries (run_id, job_id, scheduled_for, state, request, max_attempts, due_at)
        SELECT d.run_id, d.job_id, d.scheduled_for, 'due', d.request, d.max_attempts, \(dueAt)
        FROM unnest(\(deliveries.map(\.runID)), \(deliveries.map(\.job)), \(deliveries.map(\.slot)),
                    \(deliveries.map { JSONValue.object($0.request.request) }), \(deliveries.map { Int32($0.request.maxAttempts) }))
             AS d(run_id, job_id, scheduled_for, request, max_attempts)
        """
    }

    /// Takes up to `limit` deliveries due by the clock (first attempts, retries whose time has
    /// come, and leases that ran out: their process stopped), oldest due first, skipping those
    /// another process is taking. Each gets its next attempt number and a new lease token, leased
    /// for its request's timeout and `margin` more. With the job's kwargs (for the firing
    /// document), secret and handler, and the judging time.
    static func deliveryClaim(limit: Int, clock: JobClock, margin: Duration) -> SQL {
        "WITH \(claimSteps(limit: limit, clock: clock, margin: margin, excluding: nil)) SELECT * FROM claimed"
    }

    /// The claim as steps of a WITH, ending in `claimed`.
    private static func claimSteps(limit: Int, clock: JobClock, margin: Duration, excluding runID: Int64?) -> SQL {
        let marginMicroseconds = margin.microseconds
        let exclusion: SQL = runID.map { "AND run_id <> \($0)" } ?? ""
        return """
            claim_clock AS (SELECT \(clock.sqlNow) AS now),
            picked AS (
                SELECT run_id FROM deliveries
                WHERE state IN ('due', 'delivering') AND due_at <= (SELECT now FROM claim_clock) \(exclusion)
                ORDER BY due_at LIMIT \(limit) FOR UPDATE SKIP LOCKED),
            claimed AS (
                UPDATE deliveries d SET state = 'delivering', attempt = d.attempt + 1, lease_token = gen_random_uuid(),
                    due_at = claim_clock.now
                        + (coalesce(d.request->>'timeout_us', '10000000')::bigint + \(marginMicroseconds)) * interval '1 microsecond'
                FROM picked, claim_clock
                WHERE d.run_id = picked.run_id
                RETURNING d.run_id, d.job_id, d.scheduled_for, d.request, d.max_attempts, d.attempt, d.lease_token::text AS lease_token,
                          jsonb_array_length(d.attempts) AS recorded_attempts, claim_clock.now,
                          (SELECT CASE WHEN d.request ? 'body' THEN NULL ELSE j.kwargs END FROM jobs j WHERE j.job_id = d.job_id) AS kwargs,
                          (SELECT j.kwargs->'secret' FROM jobs j WHERE j.job_id = d.job_id) AS secret,
                          (SELECT j.handler FROM jobs j WHERE j.job_id = d.job_id) AS handler)
            """
    }

    /// When the next delivery may be taken: the earliest `due_at`, with the judging time.
    static func deliveryNextDue(clock: JobClock) -> SQL {
        "SELECT (SELECT min(due_at) FROM deliveries WHERE state IN ('due', 'delivering')) AS next, \(clock.sqlNow) AS now"
    }

    /// Records an attempt of the delivery leased under `token`: appended to its attempts; then
    /// due again after `retryAfter` (microseconds, by the clock), or final (`succeeded` or
    /// `failed`), its run then final too, with `error`, and schedulers woken if the job has a
    /// buffered firing waiting for this work to end. The run is locked before the delivery, the
    /// order a job's deletion locks them in. Nothing happens when the lease was lost (another
    /// process took the delivery up): `recorded` is 0 then.
    static func deliveryRecord(
        runID: Int64, token: String, attempt: JSONValue, state: DeliveryState, retryAfter: Int64?, error: String?, clock: JobClock
    ) -> SQL {
        """
        WITH \(recordSteps(runID: runID, token: token, attempt: attempt, state: state, retryAfter: retryAfter, error: error, clock: clock))
        SELECT (SELECT count(*) FROM recorded) AS recorded, (SELECT count(*) FROM woken) AS woken
        """
    }

    /// ``deliveryRecord(runID:token:attempt:state:retryAfter:error:clock:)`` and the claim of one
    /// more due delivery, in one statement (one round trip and one commit): what a call slot does
    /// between two calls. One row: `recorded`, then the claimed delivery's columns (NULL when none
    /// was due).
    static func deliveryRecordAndClaimNext(
        runID: Int64, token: String, attempt: JSONValue, state: DeliveryState, retryAfter: Int64?, error: String?, clock: JobClock,
        margin: Duration
    ) -> SQL {
        """
        WITH \(recordSteps(runID: runID, token: token, attempt: attempt, state: state, retryAfter: retryAfter, error: error, clock: clock)),
        \(claimSteps(limit: 1, clock: clock, margin: margin, excluding: runID))
        SELECT (SELECT count(*) FROM recorded) AS recorded, (SELECT count(*) FROM woken) AS woken, claimed.*
        FROM (SELECT 1) AS one LEFT JOIN claimed ON true
        """
    }

    /// The record as steps of a WITH: `run_locked`, `recorded`, `settled`, `woken`.
    private static func recordSteps(
        runID: Int64, token: String, attempt: JSONValue, state: DeliveryState, retryAfter: Int64?, error: String?, clock: JobClock
    ) -> SQL {
        """
        run_locked AS (SELECT id FROM runs WHERE id = \(runID) FOR UPDATE),
        recorded AS (
            UPDATE deliveries SET attempts = attempts || jsonb_build_array(\(attempt)::jsonb), state = \(state.rawValue),
                due_at = CASE WHEN \(retryAfter)::bigint IS NULL THEN NULL
                              ELSE \(clock.sqlNow) + \(retryAfter)::bigint * interval '1 microsecond' END,
                lease_token = NULL
            WHERE run_id = (SELECT id FROM run_locked) AND lease_token = \(token)::uuid
            RETURNING run_id, job_id, state),
        settled AS (
            UPDATE runs SET status = recorded.state, finished_at = clock_timestamp(), error = \(error)
            FROM recorded
            WHERE runs.id = recorded.run_id AND recorded.state IN ('succeeded', 'failed') AND runs.status = 'pending'
            RETURNING runs.job_id),
        woken AS (
            SELECT pg_notify(\(JobsTable.changesChannel), '') FROM runs
            WHERE status = 'buffered' AND job_id IN (SELECT job_id FROM settled) LIMIT 1)
        """
    }

    /// `cancel_other`: the earlier deliveries of these jobs that wait for a retry are cancelled,
    /// their runs with them (one under way goes on: its call cannot be taken back).
    static func deliveryCancelWaiting(jobIDs: [String]) -> SQL {
        """
        WITH cancelled AS (
            UPDATE deliveries SET state = 'cancelled', due_at = NULL
            WHERE job_id = ANY(\(jobIDs)) AND state = 'due'
            RETURNING run_id)
        UPDATE runs SET status = 'cancelled', finished_at = clock_timestamp()
        WHERE id IN (SELECT run_id FROM cancelled) AND status = 'pending'
        """
    }

    /// The deliveries of these runs, as `GET /jobs/{id}/runs` shows them.
    static func deliveriesOf(runIDs: [Int64]) -> SQL {
        "SELECT run_id, state, max_attempts, attempt, due_at, attempts FROM deliveries WHERE run_id = ANY(\(runIDs))"
    }

    /// Whether job `jobID` (an SQL expression) has a delivery not final yet.
    static func jobHasOpenDelivery(_ jobID: SQL) -> SQL {
        "EXISTS (SELECT 1 FROM deliveries d WHERE d.job_id = \(jobID) AND d.state IN ('due', 'delivering'))"
    }

    /// Whether a run (an SQL row of `runs`) has a delivery: its status follows that, not flows.
    static func runHasDelivery(_ run: SQL) -> SQL {
        "EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = \(run).id)"
    }
}

/// Where a delivery stands.
public enum DeliveryState: String, Sendable, CaseIterable, PostgresTextEnum {
    /// Waiting for its first attempt or a retry's time.
    case due
    /// Leased to a process that is calling.
    case delivering
    case succeeded, failed
    /// A later firing's `cancel_other` cancelled it while it waited for a retry.
    case cancelled
}
