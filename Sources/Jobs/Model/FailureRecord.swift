import Chronology
import JSON

/// fabric8's failed-job record: what a firing whose handler threw leaves behind. It is kept as a
/// paused job of handler ``handlerName`` and origin `failure`, so `GET /jobs?job_type=failed`
/// lists it as fabric8 did and `DELETE /jobs/clean-failed` removes it; firing one does nothing.
public struct FailureRecord: Sendable, Equatable {
    /// fabric8's name for the handler of these records.
    public static let handlerName = "ErrorHandler"

    public var error: String
    public var failedJobID: String
    public var failedHandler: String
    public var failedKwargs: JSONObject
    /// The firing's scheduled time, which also becomes the record's `when`.
    public var scheduledFor: Timestamp

    public init(error: String, failedJobID: String, failedHandler: String, failedKwargs: JSONObject, scheduledFor: Timestamp) {
        self.error = error
        self.failedJobID = failedJobID
        self.failedHandler = failedHandler
        self.failedKwargs = failedKwargs
        self.scheduledFor = scheduledFor
    }

    /// The record's kwargs, fabric8's keys.
    public var kwargs: JSONObject {
        [
            "error": .string(error),
            "failed_job_id": .string(failedJobID),
            "failed_handler": .string(failedHandler),
            "failed_kwargs": .object(failedKwargs),
            "scheduled_for": .string(scheduledFor.iso8601),
        ]
    }
}
