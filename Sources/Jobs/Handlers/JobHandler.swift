import JSON

/// What a job runs. A handler checks its kwargs when the job is defined, so a wrong payload is a
/// 400 at creation rather than a failure at fire time, and says what a firing does.
///
/// ``fire(_:)`` runs inside the transaction that claims the job, so what it returns is posted
/// exactly once per scheduled time: it must not do outside work itself.
public protocol JobHandler: Sendable {
    /// fabric8's name, used in job bodies and stored: `FlowScheduling`.
    var name: String { get }
    /// The URL form for `POST /jobs/<slug>`: `flow-scheduling`.
    var slug: String { get }
    /// - Throws: ``KwargsError`` naming the key and what it should be.
    func validate(_ kwargs: JSONObject) throws(KwargsError)
    /// The flows one firing posts, in order.
    func fire(_ kwargs: JSONObject) throws -> [FlowRequest]
}

/// Kwargs a handler refuses; the message names the key.
public struct KwargsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One flow a firing asks to post.
public struct FlowRequest: Sendable, Equatable {
    public var flowName: String
    /// Any JSON value; `null` is a valid argument.
    public var arguments: JSONValue
    public var taskNames: [String]?
    public var runSubsequent: Bool

    public init(flowName: String, arguments: JSONValue, taskNames: [String]? = nil, runSubsequent: Bool = false) {
        self.flowName = flowName
        self.arguments = arguments
        self.taskNames = taskNames
        self.runSubsequent = runSubsequent
    }
}

/// The handlers Kairos knows, by name and by slug.
public struct HandlerRegistry: Sendable {
    public let handlers: [any JobHandler]

    public init(_ handlers: [any JobHandler]) { self.handlers = handlers }

    /// The built-in handlers: `FlowScheduling`, `SelectiveFlowScheduling` and `ErrorHandler`.
    public static let standard = HandlerRegistry([FlowScheduling(), SelectiveFlowScheduling(), ErrorHandler()])

    /// - Throws: ``JobDefinitionError`` listing the known names.
    public func handler(named name: String) throws(JobDefinitionError) -> any JobHandler {
        guard let handler = handlers.first(where: { $0.name == name }) else {
            throw JobDefinitionError("unknown handler \"\(name)\"; use one of \(namesForMessages)")
        }
        return handler
    }

    /// - Throws: ``JobDefinitionError`` listing the known slugs.
    public func handler(slug: String) throws(JobDefinitionError) -> any JobHandler {
        guard let handler = handlers.first(where: { $0.slug == slug }) else {
            let slugs = handlers.map { "\"\($0.slug)\"" }.joined(separator: ", ")
            throw JobDefinitionError("unknown handler \"\(slug)\"; use one of \(slugs)")
        }
        return handler
    }

    var namesForMessages: String { handlers.map { "\"\($0.name)\"" }.joined(separator: ", ") }
}
