/// A `$filter` document refused: where (a path such as `$filter.joins[1].on`) and what is wrong.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `$filter.where["versions.id not in"]`: the place in the document.
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `$filter.joins[1].on: expected an object of column pairs, such as {"a.id": "b.a_id"}`.
    public var description: String { "\(path): \(message)" }
}
