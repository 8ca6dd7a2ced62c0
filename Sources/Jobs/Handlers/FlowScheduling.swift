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

    public func validate(_ kwargs: JSONObject) throws(KwargsError) {
        try FlowKwargs.check(kwargs, allowed: ["flow_name", "flow_arguments"], filterLimits: filterLimits)
    }

    public func fire(_ kwargs: JSONObject, context: FiringContext) throws -> [FlowRequest] {
        let flowName = kwargs["flow_name"]?.stringValue ?? ""
        return try FlowKwargs.arguments(kwargs, filterLimits: filterLimits, context: context).map {
            FlowRequest(flowName: flowName, arguments: $0)
        }
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

    public func validate(_ kwargs: JSONObject) throws(KwargsError) {
        try FlowKwargs.check(
            kwargs, allowed: ["flow_name", "flow_arguments", "task_names", "run_subsequent"], filterLimits: filterLimits)
        guard let tasks = kwargs["task_names"] else { throw KwargsError("'task_names' is required: a list of task names") }
        guard let list = tasks.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue?.isEmpty == false }) else {
            throw KwargsError("'task_names' must be a non-empty list of task names, not \(tasks.serialized())")
        }
        if let subsequent = kwargs["run_subsequent"], subsequent.boolValue == nil {
            throw KwargsError("'run_subsequent' must be true or false, not \(subsequent.kindDescription)")
        }
    }

    public func fire(_ kwargs: JSONObject, context: FiringContext) throws -> [FlowRequest] {
        let flowName = kwargs["flow_name"]?.stringValue ?? ""
        let tasks = kwargs["task_names"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let subsequent = kwargs["run_subsequent"]?.boolValue ?? false
        return try FlowKwargs.arguments(kwargs, filterLimits: filterLimits, context: context).map {
            FlowRequest(flowName: flowName, arguments: $0, taskNames: tasks, runSubsequent: subsequent)
        }
    }
}

/// The kwargs both flow handlers share.
enum FlowKwargs {
    static func check(_ kwargs: JSONObject, allowed: [String], filterLimits: FilterLimits) throws(KwargsError) {
        for key in kwargs.keys where !allowed.contains(key) {
            throw KwargsError("unknown key \"\(key)\"; accepted: \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        guard let name = kwargs["flow_name"] else { throw KwargsError("'flow_name' is required") }
        guard let text = name.stringValue, !text.isEmpty else {
            throw KwargsError("'flow_name' must be a non-empty string, not \(name.serialized())")
        }
        guard let arguments = kwargs["flow_arguments"], !arguments.isNull else { return }
        guard let list = arguments.arrayValue else {
            throw KwargsError("'flow_arguments' must be a list (one flow per element), not \(arguments.kindDescription)")
        }
        // Compiling every query now makes a malformed one a 400 when the job is posted, not a
        // failure when it fires.
        for (index, argument) in list.enumerated() {
            do {
                _ = try FilterArgument(argument, limits: filterLimits)
            } catch {
                throw KwargsError("'flow_arguments'[\(index)].\(error)")
            }
        }
    }

    /// The arguments of one firing, each `$filter` element replaced by its rows.
    ///
    /// - Throws: ``FlowArgumentError`` naming the element whose query failed.
    static func arguments(_ kwargs: JSONObject, filterLimits: FilterLimits, context: FiringContext) throws -> [JSONValue] {
        guard let arguments = kwargs["flow_arguments"], !arguments.isNull else { return [.null] }
        guard let list = arguments.arrayValue else { return [.null] }
        var expanded: [JSONValue] = []
        for (index, argument) in list.enumerated() {
            do {
                guard let filter = try FilterArgument(argument, limits: filterLimits) else {
                    expanded.append(argument)
                    continue
                }
                expanded += filter.arguments(from: try context.rows(matching: filter.query))
            } catch {
                throw FlowArgumentError(message: "'flow_arguments'[\(index)]: \(error)")
            }
        }
        return expanded
    }
}

/// A flow argument that could not be turned into flows at fire time; its message becomes the
/// failed-job record's error.
public struct FlowArgumentError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
