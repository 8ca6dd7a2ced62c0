import Chronology
import JSON

/// fabric8's failed-job record: what a firing whose handler threw leaves behind. It is kept as a
/// paused job of handler ``handlerName`` and origin `failure`, so `GET /jobs?job_type=failed`
/// lists it as fabric8 did and `DELETE /jobs/clean-failed` removes it; firing one does nothing.
public struct FailureRecord: Sendable, Equatable {
    /// fabric8's name for the handler of these records.
    public static let handlerName = "ErrorHandler"

    public var error: String
    /// Where the error came from: the chain of errors under it, outermost first, each as
    /// `Type: message` (fabric8 kept the traceback here).
    public var trace: [String]
    public var failedJobID: String
    public var failedHandler: String
    public var failedKwargs: JSONObject
    /// The firing's scheduled time, which also becomes the record's `when`.
    public var scheduledFor: Timestamp

    public init(
        error: String, trace: [String] = [], failedJobID: String, failedHandler: String, failedKwargs: JSONObject, scheduledFor: Timestamp
    ) {
        self.error = error
        self.trace = trace
        self.failedJobID = failedJobID
        self.failedHandler = failedHandler
        // A record is a job anyone may read: a secret of the failed job stays behind.
        self.failedKwargs = WriteOnlyKwargs.redacted(failedKwargs)
        self.scheduledFor = scheduledFor
    }

    /// The record's kwargs, fabric8's keys.
    public var kwargs: JSONObject {
        [
            "error": .string(error),
            "trace": .array(trace.map(JSONValue.string)),
            "failed_job_id": .string(failedJobID),
            "failed_handler": .string(failedHandler),
            "failed_kwargs": .object(failedKwargs),
            "scheduled_for": .string(scheduledFor.iso8601),
        ]
    }
}

/// An error that wraps another: what it came from, for the failure record's trace.
public protocol CausedError: Error {
    var underlying: (any Error)? { get }
}

extension FailureRecord {
    /// Each error of the chain, outermost first: its type and what it says.
    static func trace(of error: any Error) -> [String] {
        var trace: [String] = []
        var next: (any Error)? = error
        while let current = next, trace.count < 16 {
            trace.append("\(type(of: current)): \(current)")
            next = (current as? any CausedError)?.underlying
        }
        return trace
    }
}
