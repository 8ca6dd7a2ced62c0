import Chronology
import Dispatch
import Locking

/// Runs firings' after-commit work (``FiringDecision/afterCommit``) off the scheduler's
/// thread, at most ``concurrency`` at a time, the rest waiting in order, at most
/// ``queueLimit`` of them: a slow target delays only the work behind it, never a firing.
public final class AfterCommitExecutor: Sendable {
    public let concurrency: Int
    public let queueLimit: Int

    private struct State {
        var waiting: [@Sendable () -> Void] = []
        var head = 0
        var running = 0

        var waitingCount: Int { waiting.count - head }

        mutating func next() -> (@Sendable () -> Void)? {
            guard head < waiting.count else { return nil }
            let task = waiting[head]
            head += 1
            if head > 1024, head * 2 > waiting.count {
                waiting.removeFirst(head)
                head = 0
            }
            return task
        }
    }

    private let state = Locked(State())
    private let idle = DispatchGroup()
    private let queue = DispatchQueue(label: "kairos.after-commit", attributes: .concurrent)

    /// - Parameters:
    ///   - concurrency: tasks running at once, at least 1.
    ///   - queueLimit: tasks waiting beyond those; more are refused.
    public init(concurrency: Int = 4, queueLimit: Int = 10_000) {
        self.concurrency = max(1, concurrency)
        self.queueLimit = max(0, queueLimit)
    }

    /// Queues `task`; false, and `task` never runs, when ``queueLimit`` tasks already wait.
    @discardableResult
    public func submit(_ task: @escaping @Sendable () -> Void) -> Bool {
        // Entered before the task can be seen by another thread, which may run it at once.
        idle.enter()
        let start: Bool? = state.withLock { state in
            if state.running < concurrency {
                state.running += 1
                return true
            }
            guard state.waitingCount < queueLimit else { return nil }
            state.waiting.append(task)
            return false
        }
        guard let start else {
            idle.leave()
            return false
        }
        if start { run(task) }
        return true
    }

    /// Tasks running and waiting now.
    public var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waitingCount) } }

    /// Blocks until every task submitted so far has finished, or `timeout` passes; false then.
    @discardableResult
    public func waitUntilIdle(timeout: Duration) -> Bool {
        idle.wait(timeout: .now() + timeout.timeInterval) == .success
    }

    private func run(_ task: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            task()
            // Hand the slot to the next waiting task, or give it up; then count this task done,
            // so that once idle, ``load`` says so too.
            let next: (@Sendable () -> Void)? = state.withLock { state in
                guard let next = state.next() else {
                    state.running -= 1
                    return nil
                }
                return next
            }
            idle.leave()
            if let next { run(next) }
        }
    }
}
