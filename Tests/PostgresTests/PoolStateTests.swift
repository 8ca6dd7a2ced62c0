@testable import Postgres
import Testing

/// The pool's rules without connections: bounded opens, fail-fast after a failed open, and the
/// slots each path gives back.
@Suite struct PoolStateTests {
    typealias State = PoolState<String>
    static let ms: UInt64 = 1_000_000
    static let refused = PostgresError(kind: .connect(.unreachable), message: "refused")

    static func grants(_ actions: [State.Action]) -> [UInt64: String] {
        var result: [UInt64: String] = [:]
        for case .grant(let id, let grant) in actions {
            switch grant {
            case .open: result[id] = "open"
            case .reuse(let connection, _): result[id] = "reuse \(connection)"
            case .fail(let error): result[id] = "fail: \(error.message)"
            }
        }
        return result
    }

    @Test func atMostTwoOpensAtOnceTheNextWaitsForOneToFinish() {
        var state = State(maximumConnections: 8)
        #expect(Self.grants(state.handle(.requested(1, now: 0))) == [1: "open"])
        #expect(Self.grants(state.handle(.requested(2, now: 0))) == [2: "open"])
        #expect(Self.grants(state.handle(.requested(3, now: 0))).isEmpty)
        #expect(state.waiters == [3])
        #expect(state.openingCount == 2)
        #expect(Self.grants(state.handle(.opened(1))) == [3: "open"])
        #expect(state.openingCount == 2 && state.openCount == 3)
    }

    @Test func aFailedOpenFailsEveryWaiterAndTheNextMomentsBorrowers() {
        var state = State(maximumConnections: 8, failFastInterval: 500 * Self.ms)
        _ = state.handle(.requested(1, now: 0))
        _ = state.handle(.requested(2, now: 0))
        _ = state.handle(.requested(3, now: 0))
        let failed = Self.grants(state.handle(.openFailed(1, error: Self.refused, now: 10 * Self.ms)))
        #expect(failed == [1: "fail: refused", 3: "fail: refused"])
        #expect(state.waiters.isEmpty && state.openCount == 1 && state.openingCount == 1)
        // Within the half second: told at once, without an attempt.
        let early = Self.grants(state.handle(.requested(4, now: 300 * Self.ms)))
        #expect(early[4]?.contains("failed 290 ms ago; this call did not try again") == true, "\(early)")
        // After it, an attempt again.
        #expect(Self.grants(state.handle(.requested(5, now: 600 * Self.ms))) == [5: "open"])
    }

    @Test func anOpenThatSucceedsEndsFailingFast() {
        var state = State(maximumConnections: 8, failFastInterval: 500 * Self.ms)
        _ = state.handle(.requested(1, now: 0))
        _ = state.handle(.requested(2, now: 0))
        _ = state.handle(.openFailed(1, error: Self.refused, now: 0))
        _ = state.handle(.opened(2))
        #expect(state.recentOpenFailure == nil)
        #expect(Self.grants(state.handle(.requested(3, now: 100 * Self.ms))) == [3: "open"])
    }

    @Test func aBorrowerOutOfTimeGivesItsSlotBackWithoutBlamingTheServer() {
        var state = State(maximumConnections: 1)
        _ = state.handle(.requested(1, now: 0))
        _ = state.handle(.requested(2, now: 0))
        #expect(Self.grants(state.handle(.openAbandoned(1))) == [2: "open"])
        #expect(state.recentOpenFailure == nil)
        #expect(state.openCount == 1 && state.openingCount == 1)
    }

    @Test func aDeadIdleConnectionsSlotGoesToItsFinderOrWaitsForAnOpen() {
        var state = State(maximumConnections: 4)
        _ = state.handle(.requested(1, now: 0))
        _ = state.handle(.requested(2, now: 0))
        _ = state.handle(.opened(1))
        _ = state.handle(.returned("c1", now: 0))
        // Waiter 3 finds c1 dead while waiter 2 still opens: it may open (two at once).
        #expect(Self.grants(state.handle(.requested(3, now: 0))) == [3: "reuse c1"])
        #expect(Self.grants(state.handle(.discarded(3))) == [3: "open"])
        #expect(state.openCount == 2 && state.openingCount == 2)
        // A fourth finds nothing idle and two opens under way: it waits; the next open's end serves it.
        #expect(Self.grants(state.handle(.requested(4, now: 0))).isEmpty)
        #expect(Self.grants(state.handle(.opened(2))) == [4: "open"])
    }
}
