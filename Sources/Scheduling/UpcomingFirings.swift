import Chronology

/// The earliest firings of many schedules, merged in time order: what the next hours hold.
public enum UpcomingFirings {
    /// One schedule to merge: its first firing (the job's stored next run time, jitter and all)
    /// and the sequence its later ones come from.
    public struct Source<Key>: Sendable where Key: Sendable {
        public var key: Key
        public var first: Timestamp
        public var slots: any SlotSequence
        /// How many more times it may fire at most (what `max_runs` leaves); nil when unbounded.
        public var remaining: Int64?
        /// No firing after the first comes before this: an overdue first firing stands for every
        /// slot missed up to now (they coalesce into one firing, or one miss), so the next is the
        /// first slot from now.
        public var resumesAt: Timestamp?

        public init(key: Key, first: Timestamp, slots: any SlotSequence, remaining: Int64? = nil, resumesAt: Timestamp? = nil) {
            self.key = key
            self.first = first
            self.slots = slots
            self.remaining = remaining
            self.resumesAt = resumesAt
        }
    }

    /// What a merge found.
    public struct Merged<Key>: Sendable where Key: Sendable {
        /// Earliest first; a tie in the order of the sources.
        public var firings: [(key: Key, at: Timestamp)]
        /// More firings lie in the window than `limit` let through.
        public var more: Bool
        /// The sources that fire more than `perSource` times in the window, in the sources' order:
        /// only their first `perSource` firings are in ``firings``.
        public var capped: [Key]
    }

    /// Up to `limit` firings at or before `through`, at most `perSource` of each source. Each
    /// step takes the earliest head and computes only that source's next slot, so the work is
    /// about `limit` slot steps whatever the schedules, even one firing every second for a day.
    public static func merge<Key>(_ sources: [Source<Key>], through: Timestamp, limit: Int, perSource: Int = .max) -> Merged<Key> {
        var heads: [Timestamp?] = sources.map { $0.first <= through && ($0.remaining ?? 1) > 0 ? $0.first : nil }
        var remaining = sources.map(\.remaining)
        var taken = [Int](repeating: 0, count: sources.count)
        var capped = [Bool](repeating: false, count: sources.count)
        var firings: [(key: Key, at: Timestamp)] = []
        firings.reserveCapacity(min(limit, 1000))
        func result(more: Bool) -> Merged<Key> {
            Merged(firings: firings, more: more, capped: sources.indices.filter { capped[$0] }.map { sources[$0].key })
        }
        while true {
            // A linear scan: sources are at most the caller's page of jobs (1,000), and a heap
            // would save microseconds against the slot arithmetic below.
            var earliest: Int?
            for (index, head) in heads.enumerated() {
                guard let head else { continue }
                if earliest.map({ head < heads[$0]! }) ?? true { earliest = index }
            }
            guard let index = earliest else { return result(more: false) }
            guard firings.count < limit else { return result(more: true) }
            let at = heads[index]!
            firings.append((sources[index].key, at))
            taken[index] += 1
            remaining[index] = remaining[index].map { $0 - 1 }
            guard (remaining[index] ?? 1) > 0 else {
                heads[index] = nil
                continue
            }
            let after = max(at + 1, sources[index].resumesAt ?? at + 1)
            heads[index] = sources[index].slots.firstSlot(atOrAfter: after).flatMap { $0 <= through ? $0 : nil }
            if taken[index] == perSource, heads[index] != nil {
                capped[index] = true
                heads[index] = nil
            }
        }
    }
}
