import Locking

/// Set when the client of a request under way has gone (closed or reset its connection), so
/// that work done only for that answer can stop: a query cancelled, a queued handler skipped.
///
/// ```swift
/// let watch = request.cancellation.onCancel { connection.interrupt() }
/// defer { watch.remove() }
/// ```
public final class RequestCancellation: Sendable {
    private struct State {
        var isCancelled = false
        var nextID = 0
        var handlers: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Locked(State())
    /// Held while `cancel()` runs the handlers, so that `remove()` can wait for one under way.
    private let running = Locked(())

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.isCancelled } }

    /// Runs `handler` when the request is cancelled (at once, if it already is) until the
    /// returned registration is removed.
    @discardableResult
    public func onCancel(_ handler: @escaping @Sendable () -> Void) -> Registration {
        let id: Int? = state.withLock { state in
            guard !state.isCancelled else { return nil }
            state.nextID += 1
            state.handlers[state.nextID] = handler
            return state.nextID
        }
        guard let id else {
            handler()
            return Registration(owner: nil, id: 0)
        }
        return Registration(owner: self, id: id)
    }

    /// Marks the request cancelled and runs its handlers, once. A handler must not remove a
    /// registration itself: removing waits for the handlers under way.
    public func cancel() {
        running.withLock { _ in
            let handlers: [@Sendable () -> Void] = state.withLock { state in
                guard !state.isCancelled else { return [] }
                state.isCancelled = true
                defer { state.handlers = [:] }
                return Array(state.handlers.values)
            }
            for handler in handlers { handler() }
        }
    }

    /// Once this returns, the handler will not run, nor is it still running: the resource it
    /// acts on (a pooled connection, say) may go back to others.
    fileprivate func remove(_ id: Int) {
        let taken = state.withLock { state in state.handlers.removeValue(forKey: id) == nil && state.isCancelled }
        if taken { running.withLock { _ in } }  // cancel() has it: wait until it has run
    }

    public struct Registration: Sendable {
        fileprivate let owner: RequestCancellation?
        fileprivate let id: Int

        public func remove() { owner?.remove(id) }
    }
}
