import JSON

/// A job definition that cannot be accepted: the message names the field, quotes what arrived
/// and says what would be; the API answers it with a 400.
public struct JobDefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// Where in the job's document the fault is (`[.key("kwargs"), .key("flow_name")]`), so a
    /// default-job file can report its line; empty for the document as a whole.
    public let path: JSONPath

    public init(_ message: String, at path: JSONPath = []) {
        self.message = message
        self.path = path
    }

    public var description: String { message }
}

/// A request that conflicts with a job's current state; the API answers it with a 409.
public struct JobConflictError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
