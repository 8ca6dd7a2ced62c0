import JSON

/// fabric8's `ErrorHandler`: the handler of failed-job records (``FailureRecord``); firing one
/// does nothing.
public struct ErrorHandler: JobHandler {
    public let name = FailureRecord.handlerName
    public let slug = "error-handler"

    public init() {}

    public func work(from kwargs: JSONObject) throws(KwargsError) -> any JobWork { Nothing() }

    struct Nothing: JobWork {
        func fire(_ firing: FiringIdentity, context: FiringContext) throws -> FiringDecision { FiringDecision() }
    }
}
