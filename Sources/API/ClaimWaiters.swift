import Dispatch
import Jobs
import Logging
import Postgres
import Synchronization

/// Claims that wait for work (`"wait"` on `POST /flows/claim`): each is a parked request (no
/// thread, no connection) with a wake, registered here; a NOTIFY on ``FlowNotice/channel`` (flows
/// posted, given back, due for a retry) wakes as many waiters as it names flows, oldest first,
/// each to claim again. One listening connection per process, whatever the number of waiters.
///
/// A claim reads ``epoch`` before it looks at the board and registers with it: a notice that
/// arrived in between (after its look, before it waited) wakes it at once, so none is lost.
public final class ClaimWaiters: Sendable {
    private struct Waiter {
        let names: Set<String>?
        let wake: @Sendable () -> Void
    }

    private struct State {
        /// By registration order, for oldest first.
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
        /// Notices seen, and reconnects (after which any may have been lost).
        var epoch: UInt64 = 0
    }

    private let state = Mutex(State())
    private let listener: PostgresListener?

    /// Listens on its own connection until deinitialised.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        let box = WeakBox()
        listener = try? PostgresListener(
            configuration, channels: [FlowNotice.channel], queue: DispatchQueue(label: "kairos.claim-waiters")
        ) { event in
            switch event {
            case .notification(let note): box.waiters?.deliver(FlowNotice(payload: note.payload))
            // Notices sent while it was not listening are lost: every waiter looks again.
            case .connected: box.waiters?.deliver(.anything)
            case .disconnected(let error):
                logger.warning("waiting claims lost their listener; reconnecting", metadata: ["error": "\(error)"])
            }
        }
        box.waiters = self
        listener?.start()
    }

    deinit {
        listener?.stop()
    }

    /// Waiting now: the `kairos_flow_claims_waiting` gauge.
    public var count: Int { state.withLock { $0.waiters.count } }

    public var epoch: UInt64 { state.withLock { $0.epoch } }

    /// Registers `wake` for flows of `names` (any, when nil); returns what unregisters it. Wakes
    /// it at once if a notice arrived since `epoch`.
    func register(names: Set<String>?, since epoch: UInt64, wake: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let registered: UInt64? = state.withLock { state in
            guard state.epoch == epoch else { return nil }
            state.nextID += 1
            state.waiters[state.nextID] = Waiter(names: names, wake: wake)
            return state.nextID
        }
        guard let registered else {
            wake()
            return {}
        }
        return { [weak self] in _ = self?.state.withLock { $0.waiters.removeValue(forKey: registered) } }
    }

    /// Wakes, for each name the notice counts, that many waiters that take it; all for `anything`.
    func deliver(_ notice: FlowNotice) {
        let woken: [Waiter] = state.withLock { state in
            state.epoch &+= 1
            guard let counts = notice.counts else {
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            var woken: [Waiter] = []
            var left = counts
            for id in state.waiters.keys.sorted() {
                guard let waiter = state.waiters[id] else { continue }
                let name = waiter.names.map { names in left.keys.first { names.contains($0) && left[$0]! > 0 } }
                    ?? left.keys.first { left[$0]! > 0 }
                guard let name else { continue }
                left[name]! -= 1
                woken.append(waiter)
                state.waiters[id] = nil
                if left.values.allSatisfy({ $0 == 0 }) { break }
            }
            return woken
        }
        for waiter in woken { waiter.wake() }
    }

    private final class WeakBox: @unchecked Sendable {
        // @unchecked: written once, before the listener starts.
        weak var waiters: ClaimWaiters?
    }
}
