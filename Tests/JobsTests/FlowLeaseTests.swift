import Chronology
import JSON
import Jobs
import Testing

/// Every (state, event) pair of a flow's lease, with the current token, a stale one and one
/// never issued, and each ending verb repeated.
@Suite struct FlowLeaseTests {
    static let t0 = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
    static let second: Int64 = 1_000_000
    static let a = LeaseToken("token-a")
    static let b = LeaseToken("token-b")
    static let never = LeaseToken("never-issued")

    /// The flow in each state the board can hold, A being the holder or the last one.
    static func lease(_ name: String) -> FlowLease {
        var lease = FlowLease(availableAt: t0)
        switch name {
        case "fresh":
            break
        case "waiting":  // failed once with a retry due in a minute
            lease.attempt = 1
            lease.maxAttempts = 3
            lease.availableAt = t0 + 60 * second
            lease.lastCall = (.fail, a)
        case "held":
            lease.state = .claimed
            lease.attempt = 1
            lease.holder = .init(worker: "w-a", token: a, expiresAt: t0 + 30 * second)
        case "expired":
            lease.state = .claimed
            lease.attempt = 1
            lease.holder = .init(worker: "w-a", token: a, expiresAt: t0 - second)
        case "taken over":  // A's lease ran out and B claimed it
            lease.state = .claimed
            lease.attempt = 2
            lease.holder = .init(worker: "w-b", token: b, expiresAt: t0 + 30 * second)
        case "abandoned":
            lease.lastCall = (.abandon, a)
        case "completed":
            lease.state = .completed
            lease.attempt = 1
            lease.lastCall = (.complete, a)
        case "failed":
            lease.state = .failed
            lease.attempt = 1
            lease.lastCall = (.fail, a)
        case "trashed":
            lease.state = .trashed
            lease.attempt = 1
            lease.lastCall = (.trash, a)
        default:
            fatalError("no such state \(name)")
        }
        return lease
    }

    static let lease30 = Duration.seconds(30)

    static func event(_ name: String) -> FlowLease.Event {
        switch name {
        case "claim": .claim(worker: "w-b", token: b, now: t0, lease: lease30)
        case "heartbeat A": .heartbeat(a, now: t0, lease: lease30, progress: 0.5)
        case "heartbeat X": .heartbeat(never, now: t0, lease: lease30, progress: 0.5)
        case "complete A": .complete(a, result: ["ok": true])
        case "complete X": .complete(never, result: ["ok": true])
        case "fail A": .fail(a, error: "boom", retry: true, now: t0, jitter: 0)
        case "fail A final": .fail(a, error: "boom", retry: false, now: t0, jitter: 0)
        case "fail X": .fail(never, error: "boom", retry: true, now: t0, jitter: 0)
        case "abandon A": .abandon(a)
        case "abandon X": .abandon(never)
        case "trash A": .trash(a)
        case "trash X": .trash(never)
        case "expire": .expire(now: t0)
        default: fatalError("no such event \(name)")
        }
    }

    static let events = [
        "claim", "heartbeat A", "heartbeat X", "complete A", "complete X", "fail A", "fail A final", "fail X", "abandon A",
        "abandon X", "trash A", "trash X", "expire",
    ]
    static let states = ["fresh", "waiting", "held", "expired", "taken over", "abandoned", "completed", "failed", "trashed"]

    /// What each pair must do: a refusal, a repeat, nothing, or the state stored (checked below).
    enum Expected: Equatable, CustomStringConvertible {
        case refuse(FlowLease.Refusal)
        case repeated
        case nothing
        case stored(FlowLease.State, attempt: Int)

        var description: String {
            switch self {
            case .refuse(let refusal): "refuse(\(refusal))"
            case .repeated: "repeated"
            case .nothing: "nothing"
            case .stored(let state, let attempt): "stored(\(state), attempt \(attempt))"
            }
        }
    }

    static let stale = Expected.refuse(.staleToken)

    static let table: [String: [String: Expected]] = [
        "fresh": [
            "claim": .stored(.claimed, attempt: 1), "expire": .nothing,
            "heartbeat A": .refuse(.notClaimed), "heartbeat X": .refuse(.notClaimed), "complete A": .refuse(.notClaimed),
            "complete X": .refuse(.notClaimed), "fail A": .refuse(.notClaimed), "fail A final": .refuse(.notClaimed),
            "fail X": .refuse(.notClaimed), "abandon A": .refuse(.notClaimed), "abandon X": .refuse(.notClaimed),
            "trash A": .refuse(.notClaimed), "trash X": .refuse(.notClaimed),
        ],
        "waiting": [
            "claim": .refuse(.notYetAvailable(t0 + 60 * second)), "expire": .nothing,
            "heartbeat A": stale, "heartbeat X": stale, "complete A": stale, "complete X": stale,
            "fail A": .repeated, "fail A final": .repeated, "fail X": stale, "abandon A": stale, "abandon X": stale,
            "trash A": stale, "trash X": stale,
        ],
        "held": [
            "claim": .refuse(.held), "expire": .nothing,
            "heartbeat A": .stored(.claimed, attempt: 1), "heartbeat X": stale, "complete A": .stored(.completed, attempt: 1),
            "complete X": stale, "fail A": .stored(.failed, attempt: 1), "fail A final": .stored(.failed, attempt: 1),
            "fail X": stale, "abandon A": .stored(.unclaimed, attempt: 0), "abandon X": stale,
            "trash A": .stored(.trashed, attempt: 1), "trash X": stale,
        ],
        "expired": [
            "claim": .stored(.claimed, attempt: 2), "expire": .stored(.unclaimed, attempt: 1),
            // Until someone else claims it, the holder's token still counts: nobody else holds it.
            "heartbeat A": .stored(.claimed, attempt: 1), "heartbeat X": stale, "complete A": .stored(.completed, attempt: 1),
            "complete X": stale, "fail A": .stored(.failed, attempt: 1), "fail A final": .stored(.failed, attempt: 1),
            "fail X": stale, "abandon A": .stored(.unclaimed, attempt: 0), "abandon X": stale,
            "trash A": .stored(.trashed, attempt: 1), "trash X": stale,
        ],
        "taken over": [
            "claim": .refuse(.held), "expire": .nothing,
            "heartbeat A": stale, "heartbeat X": stale, "complete A": stale, "complete X": stale, "fail A": stale,
            "fail A final": stale, "fail X": stale, "abandon A": stale, "abandon X": stale, "trash A": stale, "trash X": stale,
        ],
        "abandoned": [
            "claim": .stored(.claimed, attempt: 1), "expire": .nothing,
            "heartbeat A": stale, "heartbeat X": stale, "complete A": stale, "complete X": stale, "fail A": stale,
            "fail A final": stale, "fail X": stale, "abandon A": .repeated, "abandon X": stale, "trash A": stale, "trash X": stale,
        ],
        "completed": [
            "claim": .refuse(.finished(.completed)), "expire": .nothing,
            "heartbeat A": stale, "heartbeat X": .refuse(.finished(.completed)), "complete A": .repeated,
            "complete X": .refuse(.finished(.completed)), "fail A": stale, "fail A final": stale,
            "fail X": .refuse(.finished(.completed)), "abandon A": stale, "abandon X": .refuse(.finished(.completed)),
            "trash A": stale, "trash X": .refuse(.finished(.completed)),
        ],
        "failed": [
            "claim": .refuse(.finished(.failed)), "expire": .nothing,
            "heartbeat A": stale, "heartbeat X": .refuse(.finished(.failed)), "complete A": stale,
            "complete X": .refuse(.finished(.failed)), "fail A": .repeated, "fail A final": .repeated,
            "fail X": .refuse(.finished(.failed)), "abandon A": stale, "abandon X": .refuse(.finished(.failed)),
            "trash A": stale, "trash X": .refuse(.finished(.failed)),
        ],
        "trashed": [
            "claim": .refuse(.finished(.trashed)), "expire": .nothing,
            "heartbeat A": stale, "heartbeat X": .refuse(.finished(.trashed)), "complete A": stale,
            "complete X": .refuse(.finished(.trashed)), "fail A": stale, "fail A final": stale,
            "fail X": .refuse(.finished(.trashed)), "abandon A": stale, "abandon X": .refuse(.finished(.trashed)),
            "trash A": .repeated, "trash X": .refuse(.finished(.trashed)),
        ],
    ]

    @Test func theTableCoversEveryStateAndEvent() {
        #expect(Set(Self.table.keys) == Set(Self.states))
        for state in Self.states { #expect(Set(Self.table[state]!.keys) == Set(Self.events), "\(state)") }
    }

    @Test(arguments: states)
    func everyEventFrom(_ stateName: String) throws {
        for eventName in Self.events {
            let expected = try #require(Self.table[stateName]?[eventName])
            let before = Self.lease(stateName)
            var lease = before
            let action = lease.handle(Self.event(eventName))
            let context = "\(stateName) + \(eventName)"
            switch expected {
            case .refuse(let refusal):
                #expect(action == .refuse(refusal), "\(context): \(action)")
                #expect(lease == before, "\(context): a refusal changed the lease")
            case .repeated:
                #expect(action == .repeated, "\(context): \(action)")
                #expect(lease == before, "\(context): a repeat changed the lease")
            case .nothing:
                #expect(action == .nothing, "\(context): \(action)")
                #expect(lease == before, "\(context)")
            case .stored(let state, let attempt):
                #expect(action == .store(lease), "\(context): \(action)")
                #expect(lease.state == state, "\(context): \(lease.state)")
                #expect(lease.attempt == attempt, "\(context): attempt \(lease.attempt)")
                // Held exactly while claimed, with the token of the claim or of the lease kept.
                #expect((lease.holder != nil) == (state == .claimed), "\(context)")
                if eventName == "claim" { #expect(lease.holder?.token == Self.b, "\(context)") }
                if eventName.hasPrefix("heartbeat") { #expect(lease.holder?.token == Self.a && lease.holder?.expiresAt == Self.t0 + 30 * Self.second, "\(context)") }
                // A call that ended the lease is remembered with its token and where it left the flow.
                for verb in ["complete", "fail", "abandon", "trash"] where eventName.hasPrefix(verb) {
                    #expect(lease.lastCall?.verb.rawValue == verb && lease.lastCall?.token == Self.a && lease.lastOutcome == state, "\(context)")
                }
            }
        }
    }

    @Test func aClaimTakesANewTokenAndALeaseFromNow() {
        var lease = Self.lease("fresh")
        _ = lease.handle(.claim(worker: "w-b", token: Self.b, now: Self.t0, lease: .seconds(45)))
        #expect(lease.holder == .init(worker: "w-b", token: Self.b, expiresAt: Self.t0 + 45 * Self.second, lease: .seconds(45)))
        // A heartbeat extends from its own time, and keeps the progress reported.
        let later = Self.t0 + 20 * Self.second
        #expect(lease.handle(.heartbeat(Self.b, now: later, lease: .seconds(45), progress: 0.25)) == .store(lease))
        #expect(lease.holder?.expiresAt == later + 45 * Self.second)
        #expect(lease.progress == 0.25)
    }

    @Test func aRetryWaitsItsDelayDoubledForEachAttemptWithTheJitter() {
        var lease = FlowLease(maxAttempts: 4, retryDelay: .seconds(10), availableAt: Self.t0)
        var now = Self.t0
        var waits: [Int64] = []
        for (index, jitter) in [0.0, 0.1, -0.1].enumerated() {
            let token = LeaseToken("t\(index)")
            _ = lease.handle(.claim(worker: "w", token: token, now: now, lease: .seconds(30)))
            _ = lease.handle(.fail(token, error: "boom \(index)", retry: true, now: now, jitter: jitter))
            #expect(lease.state == .unclaimed)
            waits.append((lease.availableAt.microsecondsSinceEpoch - now.microsecondsSinceEpoch) / Self.second)
            // Not offered before its time; offered from it on.
            let early = lease.availableAt + -1
            #expect(lease.handle(.claim(worker: "w", token: LeaseToken("early"), now: early, lease: .seconds(30))) == .refuse(.notYetAvailable(lease.availableAt)))
            now = lease.availableAt
        }
        #expect(waits == [10, 22, 36])  // 10 s, 20 s + 10 %, 40 s - 10 %
        // The fourth attempt is the last: its failure is final, retry or not.
        _ = lease.handle(.claim(worker: "w", token: Self.a, now: now, lease: .seconds(30)))
        #expect(lease.attempt == 4)
        _ = lease.handle(.fail(Self.a, error: "for good", retry: true, now: now, jitter: 0))
        #expect(lease.state == .failed)
        #expect(lease.error == "for good")
    }

    @Test func aFlowWhoseLeasesKeepRunningOutIsFailedAtLast() {
        // Its worker dies each time (kill -9): taken over twice beyond its one attempt, then failed.
        var lease = FlowLease(maxAttempts: 1, availableAt: Self.t0)
        var now = Self.t0
        for attempt in 1...3 {
            #expect(lease.handle(.claim(worker: "w\(attempt)", token: LeaseToken("t\(attempt)"), now: now, lease: .seconds(30))) == .store(lease))
            #expect(lease.state == .claimed && lease.attempt == attempt)
            now = now + 31 * Self.second
            _ = lease.handle(.expire(now: now))
        }
        #expect(lease.state == .failed, "\(lease.state)")
        #expect(lease.error?.contains("lease ran out") == true)
        #expect(lease.handle(.claim(worker: "w4", token: LeaseToken("t4"), now: now, lease: .seconds(30))) == .refuse(.finished(.failed)))
        // A claim that finds the last lease run out fails it the same way, and takes nothing.
        var other = FlowLease(state: .claimed, attempt: 3, maxAttempts: 1, availableAt: Self.t0,
                              holder: .init(worker: "w", token: Self.a, expiresAt: Self.t0))
        #expect(other.handle(.claim(worker: "w", token: Self.b, now: Self.t0 + 1, lease: .seconds(30))) == .store(other))
        #expect(other.state == .failed && other.holder == nil)
    }

    @Test func aHeartbeatWithoutALeaseExtendsByTheClaimsAndRetriesWaitAtMostADay() {
        var lease = FlowLease(maxAttempts: 60, retryDelay: .seconds(3600), availableAt: Self.t0)
        _ = lease.handle(.claim(worker: "w", token: Self.a, now: Self.t0, lease: .seconds(600)))
        _ = lease.handle(.heartbeat(Self.a, now: Self.t0 + 60 * Self.second, lease: nil, progress: nil, details: ["step": 2]))
        #expect(lease.holder?.expiresAt == Self.t0 + 660 * Self.second)
        #expect(lease.details == ["step": 2])
        lease.attempt = 50  // 3,600 s doubled 49 times would overflow
        _ = lease.handle(.fail(Self.a, error: "x", retry: true, now: Self.t0, jitter: 0.1))
        #expect(lease.availableAt == Self.t0 + 86_400 * Self.second)
    }

    @Test func jitterBeyondTenPercentIsClamped() {
        var lease = FlowLease(maxAttempts: 2, retryDelay: .seconds(10), availableAt: Self.t0)
        _ = lease.handle(.claim(worker: "w", token: Self.a, now: Self.t0, lease: .seconds(30)))
        _ = lease.handle(.fail(Self.a, error: "x", retry: true, now: Self.t0, jitter: 5))
        #expect(lease.availableAt == Self.t0 + 11 * Self.second)
    }

    @Test func aWorkerThatLostItsLeaseCannotFinishWhatTheNextOneHolds() {
        var lease = Self.lease("expired")
        #expect(lease.handle(.claim(worker: "w-b", token: Self.b, now: Self.t0, lease: .seconds(30))) == .store(lease))
        // The old holder comes back: every verb it tries is refused; the new holder's work stands.
        for event: FlowLease.Event in [
            .complete(Self.a, result: 1), .fail(Self.a, error: "x", retry: false, now: Self.t0, jitter: 0), .abandon(Self.a),
            .trash(Self.a), .heartbeat(Self.a, now: Self.t0, lease: .seconds(30), progress: nil),
        ] {
            #expect(lease.handle(event) == .refuse(.staleToken))
        }
        #expect(lease.handle(.complete(Self.b, result: ["by": "b"])) == .store(lease))
        #expect(lease.result == ["by": "b"])
        // B repeating its call after a lost response gets the same answer, and nothing changes.
        let done = lease
        #expect(lease.handle(.complete(Self.b, result: ["by": "b, again"])) == .repeated)
        #expect(lease == done)
    }
}
