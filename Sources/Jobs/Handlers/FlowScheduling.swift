import FilterQuery
import JSON

/// fabric8's `FlowScheduling`: posts flow `flow_name` once per element of `flow_arguments`
/// (`null` is a valid argument; without `flow_arguments`, one flow with `null`). An element
/// `{"$filter": {...}, ...}` stands for one argument per matching row, found when the job fires.
///
/// ```json
/// {"flow_name": "bayesianFlow", "flow_arguments": [{"ecosystem": "npm", "name": "serve-static", "version": "1.7.1"},
///                                                   {"$filter": {"table": "versions", "select": "identifier as version"}, "force": true}]}
/// ```
public struct FlowScheduling: JobHandler {
    public let name = "FlowScheduling"
    public let slug = "flow-scheduling"
    let filterLimits: FilterLimits

    public init(filterLimits: FilterLimits = .standard) { self.filterLimits = filterLimits }

    public func work(from kwargs: JSONObject) throws(KwargsError) -> any JobWork {
        var reader = KwargsReader(kwargs, allowed: ["flow_name", "flow_arguments"])
        return try FlowPosting(reading: &reader, filterLimits: filterLimits)
    }
}

/// fabric8's `SelectiveFlowScheduling`: like ``FlowScheduling``, for the tasks in `task_names`
/// only, and with `run_subsequent` (default false) telling workers whether to run the tasks
/// that follow them.
public struct SelectiveFlowScheduling: JobHandler {
    public let name = "SelectiveFlowScheduling"
    public let slug = "selective-flow-scheduling"
    let filterLimits: FilterLimits

    public init(filterLimits: FilterLimits = .standard) { self.filterLimits = filterLimits }

    public func work(from kwargs: JSONObject) throws(KwargsError) -> any JobWork {
        var reader = KwargsReader(kwargs, allowed: ["flow_name", "flow_arguments", "task_names", "run_subsequent"])
        var posting = try FlowPosting(reading: &reader, filterLimits: filterLimits)
        guard let tasks = reader["task_names"] else { throw KwargsError("'task_names' is required: a list of task names") }
        guard let list = tasks.arrayValue, !list.isEmpty,
            list.allSatisfy({ $0.stringValue.map { !$0.isEmpty && !$0.utf8.contains(0) } == true })
        else {
            throw KwargsError("'task_names' must be a non-empty list of task names, not \(tasks.serialized())", at: [.key("task_names")])
        }
        posting.taskNames = list.compactMap(\.stringValue)
        if let subsequent = reader["run_subsequent"] {
            guard let flag = subsequent.boolValue else {
                throw KwargsError("'run_subsequent' must be true or false, not \(subsequent.kindDescription)", at: [.key("run_subsequent")])
            }
            posting.runSubsequent = flag
        }
        return posting
    }
}

/// The kwargs of both flow handlers, read: which flow to post and with what arguments.
struct FlowPosting: JobWork {
    var flowName: String
    var arguments: [FlowArgument]
    var taskNames: [String]?
    var runSubsequent = false

    /// One element of `flow_arguments`: a value posted as it is, or a query standing for rows.
    enum FlowArgument: Sendable {
        case value(JSONValue)
        case filter(FilterArgument)
    }

    init(reading reader: inout KwargsReader, filterLimits: FilterLimits) throws(KwargsError) {
        try reader.refuseUnknownKeys()
        guard let name = reader["flow_name"] else { throw KwargsError("'flow_name' is required") }
        guard let text = name.stringValue, !text.isEmpty else {
            throw KwargsError("'flow_name' must be a non-empty string, not \(name.serialized())", at: [.key("flow_name")])
        }
        // Posted into a text column, which cannot hold U+0000 (the arguments, kept as JSON, can).
        guard !text.utf8.contains(0) else { throw KwargsError("'flow_name' must not hold U+0000", at: [.key("flow_name")]) }
        flowName = text
        guard let given = reader["flow_arguments"], !given.isNull else {
            arguments = [.value(.null)]
            return
        }
        guard let list = given.arrayValue else {
            throw KwargsError(
                "'flow_arguments' must be a list (one flow per element), not \(given.kindDescription)", at: [.key("flow_arguments")])
        }
        // Each query is compiled here, once: a malformed one is a 400 when the job is posted.
        arguments = []
        for (index, argument) in list.enumerated() {
            do {
                arguments.append(try FilterArgument(argument, limits: filterLimits).map(FlowArgument.filter) ?? .value(argument))
            } catch {
                throw KwargsError("'flow_arguments'[\(index)].\(error)", at: [.key("flow_arguments"), .index(index)])
            }
        }
    }

    /// One flow per argument, each `$filter` element replaced by its rows.
    ///
    /// - Throws: ``FlowArgumentError`` naming the element whose query failed.
    func fire(_ firing: FiringIdentity, context: FiringContext) throws -> FiringDecision {
        var flows: [FlowRequest] = []
        // One budget for the whole firing: many filters cannot add up to more than one may.
        var budget = OutputBudget(limit: context.outputLimit)
        for (index, argument) in arguments.enumerated() {
            do {
                switch argument {
                case .value(let value):
                    try budget.spend(value.compactByteCount + 1)
                    flows.append(flow(value))
                case .filter(let filter):
                    flows += try filter.arguments(from: try context.rows(matching: filter.query), budget: &budget).map(flow)
                }
            } catch {
                throw FlowArgumentError(message: "'flow_arguments'[\(index)]: \(error)", underlying: error)
            }
        }
        return FiringDecision(flows: flows)
    }

    private func flow(_ arguments: JSONValue) -> FlowRequest {
        FlowRequest(flowName: flowName, arguments: arguments, taskNames: taskNames, runSubsequent: runSubsequent)
    }
}

/// A handler's kwargs being read: refuses keys it does not take, naming those it does.
struct KwargsReader {
    private let kwargs: JSONObject
    private let allowed: [String]

    init(_ kwargs: JSONObject, allowed: [String]) {
        self.kwargs = kwargs
        self.allowed = allowed
    }

    subscript(key: String) -> JSONValue? { kwargs[key] }

    func refuseUnknownKeys() throws(KwargsError) {
        for key in kwargs.keys where !allowed.contains(key) {
            throw KwargsError(
                "unknown key \"\(key)\"; accepted: \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))", at: [.key(key)])
        }
    }
}

/// A flow argument that could not be turned into flows at fire time; its message becomes the
/// failed-job record's error.
public struct FlowArgumentError: Error, Sendable, CustomStringConvertible, CausedError {
    public let message: String
    public let underlying: (any Error)?
    public var description: String { message }
}
