import FilterQuery
import JSON

/// What a job runs. A handler checks its kwargs when the job is defined, so a wrong payload is a
/// 400 at creation rather than a failure at fire time, and says what a firing does.
///
/// ``fire(_:context:)`` runs inside the transaction that claims the job, so what it returns is
/// posted exactly once per scheduled time: it must not do outside work itself; what it may
/// read, it reads through its ``FiringContext``.
public protocol JobHandler: Sendable {
    /// fabric8's name, used in job bodies and stored: `FlowScheduling`.
    var name: String { get }
    /// The URL form for `POST /jobs/<slug>`: `flow-scheduling`.
    var slug: String { get }
    /// - Throws: ``KwargsError`` naming the key and what it should be.
    func validate(_ kwargs: JSONObject) throws(KwargsError)
    /// The flows one firing posts, in order.
    func fire(_ kwargs: JSONObject, context: FiringContext) throws -> [FlowRequest]
}

/// What a firing lets its handler read: the rows of a `$filter` query, read within the firing's
/// own transaction.
public struct FiringContext {
    private let readRows: (FilterQuery) throws -> [JSONObject]

    public init(rows: @escaping (FilterQuery) throws -> [JSONObject]) { readRows = rows }

    /// The rows `query` matches now.
    public func rows(matching query: FilterQuery) throws -> [JSONObject] { try readRows(query) }
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
    /// How `$filter` arguments are checked and run.
    public let filters: FilterPolicy

    public init(_ handlers: [any JobHandler], filters: FilterPolicy = .standard) {
        self.handlers = handlers
        self.filters = filters
    }

    /// The built-in handlers: `FlowScheduling`, `SelectiveFlowScheduling` and `ErrorHandler`.
    public static let standard = standard(filters: .standard)

    /// The built-in handlers, checking and running `$filter` arguments under `filters`.
    public static func standard(filters: FilterPolicy) -> HandlerRegistry {
        HandlerRegistry(
            [FlowScheduling(filterLimits: filters.limits), SelectiveFlowScheduling(filterLimits: filters.limits), ErrorHandler()],
            filters: filters)
    }

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
