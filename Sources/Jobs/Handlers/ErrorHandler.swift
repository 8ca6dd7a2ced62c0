import JSON

/// fabric8's `ErrorHandler`: the handler of failed-job records. A record is a paused job whose
/// kwargs describe the failure (`error`, `failed_job_id`, `failed_handler`, `failed_kwargs`,
/// `scheduled_for`); firing one does nothing.
public struct ErrorHandler: JobHandler {
    public let name = "ErrorHandler"
    public let slug = "error-handler"

    public init() {}

    public func validate(_ kwargs: JSONObject) throws(KwargsError) {}

    public func fire(_ kwargs: JSONObject, context: FiringContext) throws -> [FlowRequest] { [] }
}
