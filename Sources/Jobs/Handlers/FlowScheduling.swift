import JSON

/// fabric8's `FlowScheduling`: posts flow `flow_name` once per element of `flow_arguments`
/// (`null` is a valid argument; without `flow_arguments`, one flow with `null`).
///
/// ```json
/// {"flow_name": "bayesianFlow", "flow_arguments": [{"ecosystem": "npm", "name": "serve-static", "version": "1.7.1"}]}
/// ```
public struct FlowScheduling: JobHandler {
    public let name = "FlowScheduling"
    public let slug = "flow-scheduling"

    public init() {}

    public func validate(_ kwargs: JSONObject) throws(KwargsError) {
        try FlowKwargs.check(kwargs, allowed: ["flow_name", "flow_arguments"])
    }

    public func fire(_ kwargs: JSONObject) throws -> [FlowRequest] {
        let flowName = kwargs["flow_name"]?.stringValue ?? ""
        return FlowKwargs.arguments(kwargs).map { FlowRequest(flowName: flowName, arguments: $0) }
    }
}

/// fabric8's `SelectiveFlowScheduling`: like ``FlowScheduling``, for the tasks in `task_names`
/// only, and with `run_subsequent` (default false) telling workers whether to run the tasks
/// that follow them.
public struct SelectiveFlowScheduling: JobHandler {
    public let name = "SelectiveFlowScheduling"
    public let slug = "selective-flow-scheduling"

    public init() {}

    public func validate(_ kwargs: JSONObject) throws(KwargsError) {
        try FlowKwargs.check(kwargs, allowed: ["flow_name", "flow_arguments", "task_names", "run_subsequent"])
        guard let tasks = kwargs["task_names"] else { throw KwargsError("'task_names' is required: a list of task names") }
        guard let list = tasks.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue?.isEmpty == false }) else {
            throw KwargsError("'task_names' must be a non-empty list of task names, not \(tasks.serialized())")
        }
        if let subsequent = kwargs["run_subsequent"], subsequent.boolValue == nil {
            throw KwargsError("'run_subsequent' must be true or false, not \(subsequent.kindDescription)")
        }
    }

    public func fire(_ kwargs: JSONObject) throws -> [FlowRequest] {
        let flowName = kwargs["flow_name"]?.stringValue ?? ""
        let tasks = kwargs["task_names"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let subsequent = kwargs["run_subsequent"]?.boolValue ?? false
        return FlowKwargs.arguments(kwargs).map {
            FlowRequest(flowName: flowName, arguments: $0, taskNames: tasks, runSubsequent: subsequent)
        }
    }
}

/// The kwargs both flow handlers share.
enum FlowKwargs {
    static func check(_ kwargs: JSONObject, allowed: [String]) throws(KwargsError) {
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
        for (index, argument) in list.enumerated() where argument.objectValue?.contains(key: "$filter") == true {
            // The `$filter` compiler is not built yet; refuse rather than post the query as data.
            throw KwargsError("'flow_arguments'[\(index)]: \"$filter\" queries are not supported yet")
        }
    }

    static func arguments(_ kwargs: JSONObject) -> [JSONValue] {
        guard let arguments = kwargs["flow_arguments"], !arguments.isNull else { return [.null] }
        return arguments.arrayValue ?? [.null]
    }
}
