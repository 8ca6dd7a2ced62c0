import Dispatch
import Jobs
import Logging
import Postgres
import Locking

/// Claims that wait for work (`"wait"` on `POST /flows/claim`): each is a parked request (no
/// thread, no connection) with a wake, registered here; a NOTIFY on ``FlowNotice/channel`` (flows
/// posted, given back, due for a retry) wakes as many waiters as it names flows, oldest first,
/// each to claim again. One listening connection per process, whatever the number of waiters.
///
/// A claim takes a ``Ticket`` before it looks at the board and registers with it: a notice for
/// one of its names that arrived in between (after its look, before it waited) wakes it at once,
/// so none is lost; notices for other names do not.
public final class ClaimWaiters: Sendable {
    /// What a claim saw of the notices before it looked at the board.
    struct Ticket: Sendable {
        fileprivate let everything: UInt64
        fileprivate let names: [String: UInt64]?
        fileprivate let any: UInt64
    }

    private struct Waiter {
        let names: Set<String>?
        let wake: @Sendable () -> Void
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        /// Registration order, for oldest first; ids of waiters gone are skipped, and dropped now and then.
        var order: [UInt64] = []
        var nextID: UInt64 = 0
        /// Notices naming each flow name; `everything` counts those about any name (`*`, a
        /// reconnect); `any` counts every notice, for waiters that take any name.
        var byName: [String: UInt64] = [:]
        var everything: UInt64 = 0
        var any: UInt64 = 0
    }

    private let state = Locked(State())
    private let listener: PostgresListener?

    /// Listens on its own connection until deinitialised.
    public convenience init(configuration: PostgresConfiguration, logger: Logger) {
        self.init(listening: configuration, logger: logger)
    }

    /// Without a configuration it listens to nothing: notices come only through ``deliver(_:)``.
    init(listening configuration: PostgresConfiguration?, logger: Logger) {
        let box = WeakBox()
        listener = configuration.flatMap { configuration in
            try? PostgresListener(configuration, channels: [FlowNotice.channel], queue: DispatchQueue(label: "kairos.claim-waiters")) { event in
                switch event {
                case .notification(let note): box.waiters?.deliver(FlowNotice(payload: note.payload))
                // Notices sent while it was not listening are lost: every waiter looks again.
                case .connected: box.waiters?.deliver(.anything)
                case .disconnected(let error):
                    logger.warning("waiting claims lost their listener; reconnecting", metadata: ["error": "\(error)"])
                }
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

    /// To take before looking at the board, for flows of `names` (any, when nil).
    func ticket(for names: Set<String>?) -> Ticket {
        state.withLock { state in
            Ticket(everything: state.everything, names: names.map { names in Dictionary(uniqueKeysWithValues: names.map { ($0, state.byName[$0] ?? 0) }) },
                   any: state.any)
        }
    }

    /// Registers `wake` for flows of `names` (any, when nil); returns what unregisters it. Wakes
    /// it at once if a notice that concerns it arrived since `ticket`.
    func register(names: Set<String>?, ticket: Ticket, wake: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let registered: UInt64? = state.withLock { state in
            let missed = state.everything != ticket.everything
                || (ticket.names.map { seen in seen.contains { state.byName[$0.key] ?? 0 != $0.value } } ?? (state.any != ticket.any))
            guard !missed else { return nil }
            state.nextID += 1
            state.waiters[state.nextID] = Waiter(names: names, wake: wake)
            state.order.append(state.nextID)
            return state.nextID
        }
        guard let registered else {
            wake()
            return {}
        }
        return { [weak self] in _ = self?.state.withLock { $0.waiters.removeValue(forKey: registered) } }
    }

    /// Wakes, for each name the notice counts, that many waiters that take it, oldest first; all
    /// for ``FlowNotice/anything``.
    func deliver(_ notice: FlowNotice) {
        let woken: [Waiter] = state.withLock { state in
            state.any &+= 1
            guard let counts = notice.counts else {
                state.everything &+= 1
                defer {
                    state.waiters.removeAll()
                    state.order.removeAll()
                }
                return state.order.compactMap { state.waiters[$0] }
            }
            for name in counts.keys { state.byName[name, default: 0] &+= 1 }
            var woken: [Waiter] = []
            var left = counts.filter { $0.value > 0 }
            var kept: [UInt64] = []
            for id in state.order {
                guard let waiter = state.waiters[id] else { continue }
                let name = left.isEmpty ? nil : waiter.names.map { names in left.keys.first(where: names.contains) } ?? left.keys.first
                guard let name else {
                    kept.append(id)
                    continue
                }
                left[name]! -= 1
                if left[name] == 0 { left[name] = nil }
                woken.append(waiter)
                state.waiters[id] = nil
            }
            state.order = kept
            return woken
        }
        for waiter in woken { waiter.wake() }
    }

    private final class WeakBox: @unchecked Sendable {
        // @unchecked: written once, before the listener starts.
        weak var waiters: ClaimWaiters?
    }
}
