import Locking

/// The flow board's counts by state and flow name for `/metrics`, read from the database at
/// most once per ``maximumAge`` however often it is scraped. Counting a board of a million
/// flows costs PostgreSQL a few hundred milliseconds: a scraper polling twice a second (a
/// benchmark's did) kept a quarter of a core busy with it, beside the firings, and a hostile
/// client could keep more. A scrape that comes while another counts waits for that count and
/// shares it; a count that failed (the database slow or away) is not tried again for as long,
/// so scrapes queued behind it answer at once. The other database facts are cheap and stay
/// fresh on every scrape.
final class FlowCountsCache: Sendable {
    typealias Counts = [(state: String, flowName: String, count: Int)]

    let maximumAge: Duration
    private let latest = Locked<(at: ContinuousClock.Instant, counts: Counts?)?>(nil)

    init(maximumAge: Duration = .seconds(5)) {
        self.maximumAge = maximumAge
    }

    /// The last counts if they are younger than ``maximumAge`` at `now`, else what `count`
    /// returns now, kept for the next scrapes; nil when `count` fails or failed that recently.
    func counts(now: ContinuousClock.Instant = .now, _ count: () throws -> Counts) -> Counts? {
        latest.withLock { latest in
            // Counted by another scrape while this one waited: younger still.
            if let kept = latest, now - kept.at < maximumAge { return kept.counts }
            let fresh = try? count()
            latest = (now, fresh)
            return fresh
        }
    }
}
