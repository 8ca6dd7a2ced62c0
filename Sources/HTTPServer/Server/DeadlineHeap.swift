/// Deadlines of an event loop's clients, earliest first: a binary min-heap of (when, whose).
///
/// Nothing is ever removed but the earliest: a client that moves or drops its deadline leaves the
/// old entry, which its owner ignores when it comes due (or which belongs to a token no longer
/// registered). ``compact(keeping:)`` sheds such entries when they pile up.
struct DeadlineHeap {
    struct Entry: Equatable {
        /// Monotonic nanoseconds.
        var at: UInt64
        var token: UInt64
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }
    var earliest: Entry? { entries.first }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].at < entries[parent].at else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due by `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let first = entries.first, first.at <= now else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        siftDown(from: 0)
        return first
    }

    /// Keeps only the entries whose token `isLive` says is still registered.
    mutating func compact(keeping isLive: (UInt64) -> Bool) {
        entries.removeAll { !isLive($0.token) }
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            let right = left + 1
            let child = right < entries.count && entries[right].at < entries[left].at ? right : left
            guard entries[child].at < entries[parent].at else { return }
            entries.swapAt(child, parent)
            parent = child
        }
    }
}
