import Chronology
import Postgres
import SQLBuilding

extension RunCause: PostgresTextEnum {}
extension RunOutcome: PostgresTextEnum {}

/// The `runs` table: one row per firing, unique per job and scheduled time.
enum RunsTable {
    static let columns: SQL = """
        id, job_id, scheduled_for, coalesced_slots, cause, outcome, claimed_at, started_at, finished_at, flows_posted, error
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
            error: try row.decode(String?.self, column: "error"))
    }

    /// Records a batch of firings judged at `claimedAt`, whose handlers started at `startedAt`
    /// (the database's clock); each is finished by ``runFinishMany(ids:)`` once what it posts is
    /// written. A firing whose (job, scheduled time) already has a run is left out: its identity
    /// is taken. Returns `job_id` and `id` of each run recorded.
    static func runRecordMany(_ records: [RunRow], claimedAt: Timestamp, startedAt: Timestamp) -> SQL {
        """
        INSERT INTO runs (job_id, scheduled_for, coalesced_slots, cause, outcome, claimed_at, started_at,
                          flows_posted, error)
        SELECT r.job_id, r.scheduled_for, r.coalesced_slots, r.cause, r.outcome, \(claimedAt),
               CASE WHEN r.outcome = 'missed' THEN NULL ELSE \(startedAt)::timestamptz END,
               r.flows_posted, r.error
        FROM unnest(\(records.map(\.jobID)), \(records.map(\.scheduledFor)), \(records.map(\.coalescedSlots)),
                    \(records.map(\.cause.rawValue)), \(records.map(\.outcome.rawValue)),
                    \(records.map(\.flowsPosted)), \(records.map(\.error)))
             AS r(job_id, scheduled_for, coalesced_slots, cause, outcome, flows_posted, error)
        ON CONFLICT (job_id, scheduled_for) DO NOTHING
        RETURNING job_id, id
        """
    }

    /// Stamps runs finished now, by the database's clock: after their flows and failure records.
    static func runFinishMany(ids: [Int64]) -> SQL {
        "UPDATE runs SET finished_at = clock_timestamp() WHERE id = ANY(\(ids))"
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
}
