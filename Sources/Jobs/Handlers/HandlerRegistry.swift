import Outbound

/// The handlers Kairos knows, by name and by slug.
public struct HandlerRegistry: Sendable {
    public let handlers: [any JobHandler]
    /// How `$filter` arguments are checked and run.
    public let filters: FilterPolicy

    public init(_ handlers: [any JobHandler], filters: FilterPolicy = .standard) {
        self.handlers = handlers
        self.filters = filters
    }

    /// The built-in handlers: `FlowScheduling`, `SelectiveFlowScheduling`, `Webhook` and `ErrorHandler`.
    public static let standard = standard(filters: .standard)

    /// The built-in handlers, checking and running `$filter` arguments under `filters`, webhooks
    /// going where `outbound` allows.
    public static func standard(filters: FilterPolicy, outbound: OutboundPolicy = OutboundPolicy()) -> HandlerRegistry {
        HandlerRegistry(
            [
                FlowScheduling(filterLimits: filters.limits), SelectiveFlowScheduling(filterLimits: filters.limits), Webhook(policy: outbound),
                ErrorHandler(),
            ],
            filters: filters)
    }

    /// - Throws: ``JobDefinitionError`` listing the known names.
    public func handler(named name: String) throws(JobDefinitionError) -> any JobHandler {
        guard let handler = handlers.first(where: { $0.name == name }) else {
            throw JobDefinitionError("unknown handler \"\(name)\"; use one of \(namesForMessages)", at: [.key("handler")])
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
