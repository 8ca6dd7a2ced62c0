import Chronology
import JSON
import Postgres
import SQLBuilding
import Scheduling

/// Column lists and row decoding shared by the store's statements.
enum Rows {
    static let jobColumns: SQL = """
        job_id, handler, kwargs, requested_when, start_at, interval_us, misfire_grace_us, state, next_run_time,
        origin, created_at, updated_at
        """

    /// The trigger stored as `start_at` and `interval_us` (NULL for a one-shot).
    static func trigger(_ row: PostgresRow) throws -> Trigger {
        let start = try row.decode(Timestamp.self, column: "start_at")
        return try row.decode(Int64?.self, column: "interval_us").map { .every(Period(microseconds: $0), from: start) }
            ?? .once(at: start)
    }

    static func job(_ row: PostgresRow) throws -> Job {
        Job(
            id: try row.decode(String.self, column: "job_id"),
            handler: try row.decode(String.self, column: "handler"),
            kwargs: try row.decode(JSONValue.self, column: "kwargs").objectValue ?? [:],
            trigger: try trigger(row),
            requestedWhen: try row.decode(Timestamp?.self, column: "requested_when"),
            misfireGraceTime: try row.decode(Int64?.self, column: "misfire_grace_us").map(Period.init(microseconds:)),
            state: JobState(rawValue: try row.decode(String.self, column: "state")) ?? .paused,
            nextRunTime: try row.decode(Timestamp?.self, column: "next_run_time"),
            origin: JobOrigin(rawValue: try row.decode(String.self, column: "origin")) ?? .api,
            createdAt: try row.decode(Timestamp.self, column: "created_at"),
            updatedAt: try row.decode(Timestamp.self, column: "updated_at"))
    }

    static let runColumns: SQL = """
        id, job_id, scheduled_for, coalesced_slots, cause, outcome, claimed_at, started_at, finished_at, flows_posted, error
        """

    static func run(_ row: PostgresRow) throws -> Run {
        Run(
            id: try row.decode(Int64.self, column: "id"),
            jobID: try row.decode(String.self, column: "job_id"),
            scheduledFor: try row.decode(Timestamp.self, column: "scheduled_for"),
            coalescedSlots: try row.decode(Int64.self, column: "coalesced_slots"),
            cause: RunCause(rawValue: try row.decode(String.self, column: "cause")) ?? .schedule,
            outcome: RunOutcome(rawValue: try row.decode(String.self, column: "outcome")) ?? .failed,
            claimedAt: try row.decode(Timestamp.self, column: "claimed_at"),
            startedAt: try row.decode(Timestamp?.self, column: "started_at"),
            finishedAt: try row.decode(Timestamp?.self, column: "finished_at"),
            flowsPosted: try row.decode(Int.self, column: "flows_posted"),
            error: try row.decode(String?.self, column: "error"))
    }

    static let flowColumns: SQL = """
        id, flow_name, arguments, task_names, run_subsequent, job_id, scheduled_for, position, created_at, state
        """

    static func flow(_ row: PostgresRow) throws -> Flow {
        Flow(
            id: try row.decode(Int64.self, column: "id"),
            flowName: try row.decode(String.self, column: "flow_name"),
            arguments: try row.decode(JSONValue.self, column: "arguments"),
            taskNames: try row.decode(JSONValue?.self, column: "task_names")?.arrayValue?.compactMap(\.stringValue),
            runSubsequent: try row.decode(Bool.self, column: "run_subsequent"),
            jobID: try row.decode(String.self, column: "job_id"),
            scheduledFor: try row.decode(Timestamp.self, column: "scheduled_for"),
            position: try row.decode(Int.self, column: "position"),
            createdAt: try row.decode(Timestamp.self, column: "created_at"),
            state: try row.decode(String.self, column: "state"))
    }
}
