/// Input that cannot become a schedule. The message quotes what arrived and says what would be
/// accepted; callers prefix the field: `'periodically': "1 dya" is not a duration; ...`.
public struct SchedulingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
