/// A job definition that cannot be accepted: the message names the field, quotes what arrived
/// and says what would be; the API answers it with a 400.
public struct JobDefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A request that conflicts with a job's current state; the API answers it with a 409.
public struct JobConflictError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
