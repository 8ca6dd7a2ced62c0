import Chronology
import JSON
import Postgres
import SQLBuilding

extension FlowState: PostgresTextEnum {}

/// The `flows` table: the units of work firings post, unique per firing and position.
enum FlowsTable {
    static let columns: SQL = """
        id, flow_name, arguments, task_names, run_subsequent, job_id, scheduled_for, position, created_at, state
        """

    static func decode(_ row: PostgresRow) throws -> Flow {
        let taskNames = try row.decode(JSONValue?.self, column: "task_names")
        return Flow(
            id: try row.decode(Int64.self, column: "id"),
            flowName: try row.decode(String.self, column: "flow_name"),
            arguments: try row.decode(JSONValue.self, column: "arguments"),
            taskNames: try taskNames.map { value in
                guard let names = value.arrayValue?.compactMap(\.stringValue), names.count == value.arrayValue?.count else {
                    throw PostgresError(kind: .decoding, message: "column \"task_names\" holds \(value.serialized()), not a list of names")
                }
                return names
            },
            runSubsequent: try row.decode(Bool.self, column: "run_subsequent"),
            jobID: try row.decode(String.self, column: "job_id"),
            scheduledFor: try row.decode(Timestamp.self, column: "scheduled_for"),
            position: try row.decode(Int.self, column: "position"),
            createdAt: try row.decode(Timestamp.self, column: "created_at"),
            state: try row.decode(FlowState.self, column: "state"))
    }

    /// Posts flows, many in one statement, claimable from `availableAt` (the firing's judging
    /// time); a flow whose firing and position exist is left out.
    static func flowInsertMany(_ flows: FlowColumns, availableAt: Timestamp) -> SQL {
        """
        INSERT INTO flows (flow_name, arguments, task_names, run_subsequent, job_id, scheduled_for, position,
                           priority, max_attempts, retry_delay_us, available_at)
        SELECT *, \(availableAt)::timestamptz FROM unnest(\(flows.names), \(flows.arguments), \(flows.taskNames), \(flows.runSubsequent),
                             \(flows.jobIDs), \(flows.slots), \(flows.positions), \(flows.priorities), \(flows.maxAttempts),
                             \(flows.retryDelays))
        ON CONFLICT (job_id, scheduled_for, position) DO NOTHING
        """
    }

    /// Trashes the unclaimed flows of these jobs (`cancel_other`), locking them in id order as a
    /// batch completion does, so the two cannot deadlock. Flows being claimed at that moment are
    /// waited for and, claimed by then, left to their workers.
    static func flowCancelUnclaimed(jobIDs: [String]) -> SQL {
        """
        UPDATE flows SET state = 'trashed', error = 'cancelled: a later firing of the job replaced this work (overlap cancel_other)'
        WHERE id IN (SELECT id FROM flows WHERE job_id = ANY(\(jobIDs)) AND state = 'unclaimed' ORDER BY id FOR UPDATE)
          AND state = 'unclaimed'
        """
    }

    /// Tells waiting claims, when the transaction commits, that flows became claimable.
    static func flowNotify(_ notice: FlowNotice) -> SQL {
        "SELECT pg_notify(\(FlowNotice.channel), \(notice.payload))"
    }

    /// Only the filters given, so each combination is a statement of its own whose plan (a
    /// prepared one too) can use the index for the filters it has; nothing given matches all.
    private static func matching(_ query: FlowBoard.Query) -> SQL {
        var conditions: [SQL] = []
        if let state = query.state { conditions.append("state = \(state)") }
        if let jobID = query.jobID { conditions.append("job_id = \(jobID)") }
        if let flowName = query.flowName { conditions.append("flow_name = \(flowName)") }
        if let worker = query.worker { conditions.append("holder = \(worker)") }
        return conditions.isEmpty ? "true" : SQL.joined(conditions, separator: " AND ")
    }

    static func flowPage(_ query: FlowBoard.Query) -> SQL {
        "SELECT \(columns) FROM flows WHERE \(matching(query)) ORDER BY id LIMIT \(query.limit) OFFSET \(query.offset)"
    }

    static func flowCount(_ query: FlowBoard.Query) -> SQL {
        "SELECT count(*) AS n FROM flows WHERE \(matching(query))"
    }

    static func flowSelect(id: Int64) -> SQL {
        "SELECT \(columns) FROM flows WHERE id = \(id)"
    }

    static let flowCountByState: SQL = "SELECT state, flow_name, count(*)::bigint AS n FROM flows GROUP BY state, flow_name ORDER BY state, flow_name"

    /// Unfinished flows (through `flows_by_state`) and final ones posted in the last
    /// `sinceHours` (through `flows_final`) by state and flow name, at most `limit` pairs:
    /// neither reads the final flows of older days.
    static func flowCountSummary(clock: JobClock, sinceHours: Int, limit: Int) -> SQL {
        """
        SELECT state, flow_name, count(*)::bigint AS n FROM flows
        WHERE state IN ('unclaimed', 'claimed')
           OR (state IN ('completed', 'failed', 'trashed') AND created_at >= \(clock.sqlNow) - make_interval(hours => \(Int32(sinceHours))))
        GROUP BY state, flow_name ORDER BY state, flow_name LIMIT \(Int64(limit))
        """
    }

    /// A row of ``flowCountByState`` or ``flowCountSummary(clock:sinceHours:limit:)``.
    static func decodeCount(_ row: PostgresRow) throws -> (state: FlowState, flowName: String, count: Int) {
        (try row.decode(FlowState.self, column: "state"), try row.decode(String.self, column: "flow_name"), try row.decode(Int.self, column: "n"))
    }
}

/// Flow rows as column arrays, for one multi-row insert through `unnest`.
struct FlowColumns {
    var names: [String] = []
    var arguments: [JSONValue] = []
    var taskNames: [JSONValue?] = []
    var runSubsequent: [Bool] = []
    var jobIDs: [String] = []
    var slots: [Timestamp] = []
    var positions: [Int32] = []
    var priorities: [Int32] = []
    var maxAttempts: [Int32] = []
    var retryDelays: [Int64] = []

    var isEmpty: Bool { jobIDs.isEmpty }
    var count: Int { jobIDs.count }
    /// Bytes of the arguments as compact JSON, one entry per flow.
    private var argumentBytes: [Int] = []

    /// Consecutive runs of these flows, each with at most `maximumArgumentBytes` of arguments
    /// (a single larger flow makes a run of its own); none when there are no flows.
    func chunked(maximumArgumentBytes: Int) -> [FlowColumns] {
        var chunks: [FlowColumns] = []
        var start = 0
        var bytes = 0
        for index in argumentBytes.indices {
            if index > start && bytes + argumentBytes[index] > maximumArgumentBytes {
                chunks.append(slice(start..<index))
                start = index
                bytes = 0
            }
            bytes += argumentBytes[index]
        }
        if start < count { chunks.append(start == 0 ? self : slice(start..<count)) }
        return chunks
    }

    private func slice(_ range: Range<Int>) -> FlowColumns {
        var part = FlowColumns()
        part.names = Array(names[range])
        part.arguments = Array(arguments[range])
        part.taskNames = Array(taskNames[range])
        part.runSubsequent = Array(runSubsequent[range])
        part.jobIDs = Array(jobIDs[range])
        part.slots = Array(slots[range])
        part.positions = Array(positions[range])
        part.priorities = Array(priorities[range])
        part.maxAttempts = Array(maxAttempts[range])
        part.retryDelays = Array(retryDelays[range])
        part.argumentBytes = Array(argumentBytes[range])
        return part
    }

    mutating func append(_ flow: FlowRequest, job: String, slot: Timestamp, position: Int, policy: WorkPolicy = WorkPolicy()) {
        names.append(flow.flowName)
        arguments.append(flow.arguments)
        argumentBytes.append(flow.arguments.compactByteCount)
        taskNames.append(flow.taskNames.map { .array($0.map(JSONValue.string)) })
        runSubsequent.append(flow.runSubsequent)
        jobIDs.append(job)
        slots.append(slot)
        positions.append(Int32(position))
        priorities.append(Int32(policy.priority.rank))
        maxAttempts.append(Int32(policy.maxAttempts))
        retryDelays.append(policy.retryDelay.microseconds)
    }
}
