/// A path pattern such as `/api/v1/jobs/{job_id}/runs`: literal segments and `{name}` segments
/// that match any one segment.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    public let template: String
    let segments: [Segment]
    /// Literal segments win over parameters: `/jobs/clean-failed` before `/jobs/{job_id}`.
    let specificity: Int

    public init(_ template: String) {
        precondition(template.hasPrefix("/"), "a route pattern starts with '/': \(template)")
        self.template = template
        segments = template.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        specificity = segments.reduce(0) { count, segment in
            if case .literal = segment { return count + 1 }
            return count
        }
    }

    public var description: String { template }

    /// The parameter values when `path` matches, else nil.
    func match(_ path: [String]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, value) in zip(segments, path) {
            switch segment {
            case .literal(let literal):
                guard literal == value else { return nil }
            case .parameter(let name):
                guard !value.isEmpty else { return nil }
                parameters[name] = value
            }
        }
        return parameters
    }
}
