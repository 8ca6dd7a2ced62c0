import Chronology
import Scheduling
import Testing

@Suite struct UpcomingFiringsTests {
    let start = CivilTime(year: 2026, month: 12, day: 1, hour: 0)!.timestamp
    let minute: Int64 = 60_000_000

    private func every(_ minutes: Int64, from offset: Int64 = 0) -> Trigger {
        .every(Period(microseconds: minutes * minute), from: start + offset * minute)
    }

    @Test func firingsAreMergedEarliestFirstThroughTheWindow() {
        let sources = [
            UpcomingFirings.Source(key: "ten", first: start, slots: every(10)),
            UpcomingFirings.Source(key: "fifteen", first: start + 5 * minute, slots: every(15, from: 5)),
        ]
        let merged = UpcomingFirings.merge(sources, through: start + 30 * minute, limit: 100)
        #expect(merged.firings.map(\.key) == ["ten", "fifteen", "ten", "ten", "fifteen", "ten"])
        #expect(merged.firings.map { ($0.at - start) / minute } == [0, 5, 10, 20, 20, 30])
        #expect(!merged.more && merged.capped.isEmpty)
    }

    @Test func anOverdueFirstFiringStandsForEverySlotUpToNow() {
        // Due since midnight, every 10 minutes, judged at 00:35: one firing now-ish, then 00:40.
        let now = start + 35 * minute
        let merged = UpcomingFirings.merge(
            [UpcomingFirings.Source(key: "late", first: start, slots: every(10), resumesAt: now)], through: start + 60 * minute, limit: 10)
        #expect(merged.firings.map { ($0.at - start) / minute } == [0, 40, 50, 60])
    }

    @Test func theLimitTheCapAndMaxRunsBound() {
        let sources = [
            UpcomingFirings.Source(key: "often", first: start, slots: every(1)),
            UpcomingFirings.Source(key: "twice", first: start, slots: every(2), remaining: 2),
            UpcomingFirings.Source(key: "spent", first: start, slots: every(2), remaining: 0),
        ]
        let day = start + 24 * 60 * minute
        let limited = UpcomingFirings.merge(sources, through: day, limit: 5)
        #expect(limited.firings.map(\.key) == ["often", "twice", "often", "often", "twice"])
        #expect(limited.more)
        let capped = UpcomingFirings.merge(sources, through: day, limit: 1000, perSource: 3)
        #expect(capped.firings.filter { $0.key == "often" }.count == 3)
        #expect(capped.firings.filter { $0.key == "twice" }.count == 2)  // max_runs, not the cap
        #expect(capped.capped == ["often"] && !capped.more)
        // A source whose first firing is past the window adds nothing.
        let late = UpcomingFirings.merge([UpcomingFirings.Source(key: "late", first: day + 1, slots: every(1))], through: day, limit: 10)
        #expect(late.firings.isEmpty && !late.more)
        // A once-a-second job over a day costs only `limit` steps: this returns at once.
        let second = UpcomingFirings.merge(
            [UpcomingFirings.Source(key: "s", first: start, slots: Trigger.every(.seconds(1), from: start))], through: day, limit: 1000)
        #expect(second.firings.count == 1000 && second.more)
    }
}
