/// What a NOTIFY on ``channel`` says: flows of these names became claimable (posted, given back
/// or due for a retry), so many of each; waiting claims are woken by it. As text, one
/// `name<TAB>count` line per name, or `*` for "any, as many as wait" when the names do not fit
/// a notification or cannot be written in one.
public struct FlowNotice: Sendable, Equatable {
    public static let channel = "kairos_flows"
    /// PostgreSQL's limit is 8000 bytes; this leaves room.
    static let longestPayload = 7900

    /// Nil: any flow name, any number of waiters.
    public var counts: [String: Int]?

    public init(counts: [String: Int]?) {
        self.counts = counts
    }

    public static let anything = FlowNotice(counts: nil)

    public init(names: [String]) {
        var counts: [String: Int] = [:]
        for name in names { counts[name, default: 0] += 1 }
        self.counts = counts
    }

    public var payload: String {
        guard let counts else { return "*" }
        var text = ""
        for (name, count) in counts.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, !name.contains("\t"), !name.contains("\n"), name != "*" else { return "*" }
            text += "\(name)\t\(count)\n"
            if text.utf8.count > Self.longestPayload { return "*" }
        }
        return text
    }

    /// Reads a payload; anything it cannot read means "anything", which wakes too many rather than too few.
    public init(payload: String) {
        var counts: [String: Int] = [:]
        for line in payload.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let count = Int(parts[1]), count > 0 else {
                self.counts = nil
                return
            }
            counts[String(parts[0]), default: 0] += count
        }
        self.counts = counts.isEmpty ? nil : counts
    }
}
