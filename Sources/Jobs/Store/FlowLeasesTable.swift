import Chronology
import JSON
import Postgres
import SQLBuilding

extension FlowLease.Verb: PostgresTextEnum {}

/// The lease columns of `flows`: how a ``FlowLease`` is stored, read back and written, and the
/// statements a claim and a verb use. The rules are the lease's; this only moves its value.
enum FlowLeasesTable {
    /// A flow's columns and its lease's: what a claim, a verb or a look reads, in one row.
    static let flowAndLease: SQL = """
        \(FlowsTable.columns), attempt, max_attempts, retry_delay_us, available_at, holder, lease_token,
        lease_expires_at, lease_us, last_verb, last_token, last_outcome, progress, details, result, error
        """

    static func decode(_ row: PostgresRow) throws -> FlowLease {
        var lease = FlowLease(
            state: try row.decode(FlowState.self, column: "state"), attempt: try row.decode(Int.self, column: "attempt"),
            maxAttempts: try row.decode(Int.self, column: "max_attempts"),
            retryDelay: .microseconds(try row.decode(Int64.self, column: "retry_delay_us")),
            availableAt: try row.decode(Timestamp.self, column: "available_at"))
        if let token = try row.decode(String?.self, column: "lease_token") {
            lease.holder = FlowLease.Holder(
                worker: try row.decode(String.self, column: "holder"), token: LeaseToken(token),
                expiresAt: try row.decode(Timestamp.self, column: "lease_expires_at"),
                lease: .microseconds(try row.decode(Int64.self, column: "lease_us")))
        }
        lease.lastOutcome = try row.decode(FlowState?.self, column: "last_outcome")
        lease.details = try row.decode(JSONValue?.self, column: "details")
        if let verb = try row.decode(FlowLease.Verb?.self, column: "last_verb") {
            lease.lastCall = (verb, LeaseToken(try row.decode(String.self, column: "last_token")))
        }
        lease.progress = try row.decode(Double?.self, column: "progress")
        lease.result = try row.decode(JSONValue?.self, column: "result")
        lease.error = try row.decode(String?.self, column: "error")
        return lease
    }

    // "Now" is read once per statement, in a CTE the conditions read through sub-selects, which
    // PostgreSQL evaluates before the scan: so it bounds the index scans (a bare
    // `clock_timestamp()` is volatile and would be checked row by row), and every row of one
    // statement is judged at the same instant.

    /// Claimed flows whose lease has run out, locked (skipping any another claim has locked),
    /// oldest expiry first: a claim sweeps them back to the board (or fails them) first.
    static func expiredForUpdate(limit: Int, clock: JobClock) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT \(flowAndLease), (SELECT now FROM clock) AS now FROM flows
        WHERE state = 'claimed' AND lease_expires_at <= (SELECT now FROM clock)
        ORDER BY lease_expires_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
        """
    }

    /// For the rest of the transaction, the board's statements run on their cached generic plans
    /// instead of being planned again for each call. PostgreSQL's default keeps planning a
    /// statement whose custom plan looks cheaper than the generic one, and for these (an `unnest`
    /// of arrays, a `LIMIT` of 1) it always does: in a profile of 8 workers claiming and completing
    /// one flow at a time, planning was a seventh of the database's work. Their plans do not
    /// depend on the values: every condition that picks a partial index is a literal, and keys
    /// are looked up by index whatever they are.
    static let genericPlans: SQL = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"

    /// ``genericPlans``, and a plan that sorts is a last resort: see ``FlowBoard/claimReporting``.
    static let claimPlanning: SQL = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_sort', 'off', true)"

    /// Flows a claim may take now, locked, skipping any another claim has locked: unclaimed ones
    /// by priority, availability and age, one scan of `flows_claimable` that stops at `limit`.
    static func claimCandidates(names: [String]?, limit: Int, clock: JobClock) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT \(flowAndLease), (SELECT now FROM clock) AS now FROM flows
        WHERE state = 'unclaimed' AND available_at <= (SELECT now FROM clock)
          AND (\(names)::text[] IS NULL OR flow_name = ANY(\(names)::text[]))
        ORDER BY priority, available_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
        """
    }

    /// In microseconds from the judging time, how soon a flow of `names` (any, when nil) becomes
    /// claimable without anyone acting: a retry's wait ends, or a lease runs out. NULL if none will.
    static func nextChance(names: [String]?, clock: JobClock) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT (extract(epoch FROM least(
            (SELECT min(available_at) FROM flows WHERE state = 'unclaimed' AND available_at > (SELECT now FROM clock)
                AND (\(names)::text[] IS NULL OR flow_name = ANY(\(names)::text[]))),
            (SELECT min(lease_expires_at) FROM flows WHERE state = 'claimed'
                AND (\(names)::text[] IS NULL OR flow_name = ANY(\(names)::text[])))) - (SELECT now FROM clock)) * 1000000)::bigint AS micros
        """
    }

    /// Flows `ids`, locked in id order (so that two batches over the same flows cannot deadlock),
    /// with the judging time.
    static func leasesForUpdate(ids: [Int64], clock: JobClock) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT \(flowAndLease), (SELECT now FROM clock) AS now FROM flows WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
        """
    }

    static func flowAndLeaseSelect(id: Int64) -> SQL {
        "SELECT \(flowAndLease) FROM flows WHERE id = \(id)"
    }

    /// One flow and its lease, locked for a verb, with the judging time.
    static func leaseForUpdate(id: Int64, clock: JobClock) -> SQL {
        "SELECT \(flowAndLease), \(clock.sqlNow) AS now FROM flows WHERE id = \(id) FOR UPDATE"
    }

    /// Stores the leases as decided, one row per flow, in one statement.
    static func leaseUpdateMany(_ leases: [(id: Int64, lease: FlowLease)]) -> SQL {
        let ids = leases.map(\.id)
        let values = leases.map(\.lease)
        return """
            UPDATE flows SET state = v.state, attempt = v.attempt, available_at = v.available_at, holder = v.holder,
                lease_token = v.lease_token, lease_expires_at = v.lease_expires_at, lease_us = v.lease_us,
                last_verb = v.last_verb, last_token = v.last_token, last_outcome = v.last_outcome, progress = v.progress,
                details = v.details, result = v.result, error = v.error
            FROM unnest(\(ids), \(values.map(\.state.rawValue)), \(values.map { Int32($0.attempt) }),
                        \(values.map(\.availableAt)), \(values.map { $0.holder?.worker }), \(values.map { $0.holder?.token.text }),
                        \(values.map { $0.holder?.expiresAt }), \(values.map { $0.holder?.lease.microseconds }),
                        \(values.map { $0.lastCall?.verb.rawValue }), \(values.map { $0.lastCall?.token.text }),
                        \(values.map { $0.lastOutcome?.rawValue }), \(values.map(\.progress)), \(values.map(\.details)),
                        \(values.map(\.result)), \(values.map(\.error)))
                AS v(id, state, attempt, available_at, holder, lease_token, lease_expires_at, lease_us, last_verb, last_token,
                     last_outcome, progress, details, result, error)
            WHERE flows.id = v.id
            """
    }

    // MARK: The board at a glance

    /// The board's figures at the judging time: each reads a partial index of unfinished flows
    /// (claimable, leases, open), never the final ones a long-lived board piles up.
    static func boardFigures(clock: JobClock) -> SQL {
        """
        WITH clock AS (SELECT \(clock.sqlNow) AS now)
        SELECT (SELECT now FROM clock) AS now,
            (SELECT min(available_at) FROM flows WHERE state = 'unclaimed' AND available_at <= (SELECT now FROM clock)) AS oldest_claimable,
            (SELECT count(*) FROM flows WHERE state = 'unclaimed' AND available_at > (SELECT now FROM clock))::bigint AS waiting,
            (SELECT count(*) FROM flows WHERE (state = 'unclaimed' AND attempt > 0) OR (state = 'claimed' AND attempt > 1))::bigint AS retrying,
            (SELECT count(*) FROM flows WHERE state = 'claimed' AND lease_expires_at <= (SELECT now FROM clock))::bigint AS expired,
            (SELECT count(DISTINCT holder) FROM flows WHERE state = 'claimed')::bigint AS holders
        """
    }

    /// The `limit` workers holding the most leases, with how many and their earliest expiry.
    static func holders(limit: Int) -> SQL {
        """
        SELECT holder, count(*)::bigint AS n, min(lease_expires_at) AS earliest_expiry FROM flows
        WHERE state = 'claimed' GROUP BY holder ORDER BY n DESC, holder LIMIT \(Int64(limit))
        """
    }
}
