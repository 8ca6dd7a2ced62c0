import Chronology
import JSON

/// A unit of work posted for external workers by a firing of a flow-scheduling job.
public struct Flow: Sendable, Equatable {
    public var id: Int64
    public var flowName: String
    public var arguments: JSONValue
    public var taskNames: [String]?
    public var runSubsequent: Bool
    public var jobID: String
    public var scheduledFor: Timestamp
    /// The flow's place in its firing's fan-out, from 0.
    public var position: Int
    public var createdAt: Timestamp
    public var state: FlowState

    public var json: JSONValue {
        [
            "id": .int(id),
            "flow_name": .string(flowName),
            "arguments": arguments,
            "task_names": taskNames.map { .array($0.map(JSONValue.string)) } ?? .null,
            "run_subsequent": .bool(runSubsequent),
            "job_id": .string(jobID),
            "scheduled_for": .string(scheduledFor.iso8601),
            "position": .int(Int64(position)),
            "created_at": .string(createdAt.iso8601),
            "state": .string(state.rawValue),
        ]
    }
}

/// The states a flow moves through on the flow board.
public enum FlowState: String, Sendable, CaseIterable {
    case unclaimed, claimed, completed, failed, trashed

    /// Takes no more calls: the flow's run may be settled.
    public var isFinal: Bool { self == .completed || self == .failed || self == .trashed }
}
