@testable import API
import Jobs
import Logging
import TestSupport
import Testing

/// Who a notice wakes: as many waiters as it names flows, oldest first, only those that take the
/// name; and none lost between a claim's look and its registration.
@Suite struct ClaimWaitersTests {
    static func waiters() -> ClaimWaiters { ClaimWaiters(listening: nil, logger: Logger(label: "test")) }

    /// Registers a waiter for `names`; its wakes are counted in `woken` under `label`.
    static func wait(_ waiters: ClaimWaiters, _ label: String, names: Set<String>?, woken: Arrivals<String>) -> @Sendable () -> Void {
        waiters.register(names: names, ticket: waiters.ticket(for: names)) { woken.append(label) }
    }

    @Test func aNoticeWakesAsManyAsItCountsOldestFirstAndOnlyThoseThatTakeTheName() {
        let waiters = Self.waiters()
        let woken = Arrivals<String>()
        _ = Self.wait(waiters, "encode-1", names: ["encode"], woken: woken)
        _ = Self.wait(waiters, "any-1", names: nil, woken: woken)
        _ = Self.wait(waiters, "resize-1", names: ["resize"], woken: woken)
        _ = Self.wait(waiters, "any-2", names: nil, woken: woken)
        waiters.deliver(FlowNotice(counts: ["resize": 2]))
        #expect(woken.all == ["any-1", "resize-1"])
        #expect(waiters.count == 2)
        waiters.deliver(FlowNotice(counts: ["encode": 5]))
        #expect(woken.all == ["any-1", "resize-1", "encode-1", "any-2"])
        #expect(waiters.count == 0)
    }

    @Test func everythingWakesEveryoneAndACancelledWaiterIsNotWoken() {
        let waiters = Self.waiters()
        let woken = Arrivals<String>()
        let cancel = Self.wait(waiters, "gone", names: nil, woken: woken)
        _ = Self.wait(waiters, "named", names: ["x"], woken: woken)
        cancel()
        waiters.deliver(.anything)
        #expect(woken.all == ["named"])
    }

    /// A notice between the look (the ticket) and the registration wakes the claim at once, if
    /// it is about a name the claim takes.
    @Test func aNoticeBeforeRegistrationWakesAtOnceOnlyForItsNames() {
        let waiters = Self.waiters()
        let woken = Arrivals<String>()
        let encodeTicket = waiters.ticket(for: ["encode"])
        let anyTicket = waiters.ticket(for: nil)
        waiters.deliver(FlowNotice(counts: ["resize": 1]))
        _ = waiters.register(names: ["encode"], ticket: encodeTicket) { woken.append("encode") }
        _ = waiters.register(names: nil, ticket: anyTicket) { woken.append("any") }
        #expect(woken.all == ["any"])
        #expect(waiters.count == 1)
        let late = waiters.ticket(for: ["encode"])
        waiters.deliver(.anything)
        _ = waiters.register(names: ["encode"], ticket: late) { woken.append("late") }
        #expect(woken.all == ["any", "encode", "late"])
    }

    @Test(arguments: [
        (["a": 1, "b": 3] as [String: Int]?, "a\t1\nb\t3\n"),
        (nil, "*"),
        (["tab\there": 1], "*"),
        (["*": 1], "*"),
        ([String(repeating: "n", count: 8000): 1], "*"),
    ])
    func noticesRoundTripOrMeanEverything(counts: [String: Int]?, payload: String) {
        let notice = FlowNotice(counts: counts)
        #expect(notice.payload == payload)
        #expect(FlowNotice(payload: notice.payload) == (payload == "*" ? .anything : notice))
    }

    @Test(arguments: ["", "x", "a\tnot-a-number", "a\t0", "a\t1\tb"])
    func anUnreadablePayloadMeansEverything(payload: String) {
        #expect(FlowNotice(payload: payload) == .anything)
    }
}
