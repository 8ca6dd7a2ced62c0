import Foundation
import Logging

/// Threads that fire beside the scheduler's loop while a burst is due, each in transactions of
/// its own: the claims skip each other's locked jobs, so they split the burst as schedulers on
/// several machines do (and with the same guarantee: each slot fires once).
///
/// One firing thread keeps only one core busy, and that by halves: it waits for PostgreSQL while
/// PostgreSQL waits for it. 1,000 jobs due at one second took two batches one after the other,
/// the last flow posted 50–70 ms late; two lanes fire both halves at once.
final class FiringLanes: @unchecked Sendable {
    // @unchecked: `requested`, `busy` and `stopping` are guarded by `condition`.
    private let condition = NSCondition()
    /// Helpers asked to fire and not yet started on it.
    private var requested = 0
    /// Helpers firing now.
    private var busy = 0
    private var stopping = false
    private var running = 0
    let helpers: Int

    /// - Parameter fire: one batch; returns whether it was full (more may be due).
    init(helpers: Int, name: String, fire: @escaping @Sendable () -> Bool) {
        self.helpers = helpers
        for index in 0..<helpers {
            let thread = Thread { [self] in run(fire) }
            thread.name = "\(name)-\(index + 1)"
            running += 1
            thread.start()
        }
    }

    /// Sets every idle helper firing; each goes on while its batches are full.
    func assist() {
        condition.withLock {
            requested = helpers - busy
            condition.broadcast()
        }
    }

    /// Returns once no helper is firing.
    func waitUntilIdle() {
        condition.withLock {
            while busy > 0 || requested > 0 { condition.wait() }
        }
    }

    /// Ends the helpers after the batches under way; returns once they have ended.
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while running > 0 { condition.wait() }
        }
    }

    private func run(_ fire: () -> Bool) {
        while true {
            let go = condition.withLock { () -> Bool in
                while requested == 0 && !stopping { condition.wait() }
                guard !stopping else { return false }
                requested -= 1
                busy += 1
                return true
            }
            guard go else { break }
            while !condition.withLock({ stopping }) && fire() {}
            condition.withLock {
                busy -= 1
                condition.broadcast()
            }
        }
        condition.withLock {
            running -= 1
            condition.broadcast()
        }
    }
}
