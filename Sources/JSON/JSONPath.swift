/// A place in a JSON document: the keys and indexes from its root, outermost first.
/// `[.key("flow_arguments"), .index(2)]` is `flow_arguments[2]`.
public typealias JSONPath = [JSONPathComponent]

public enum JSONPathComponent: Sendable, Hashable {
    case key(String)
    case index(Int)
}
