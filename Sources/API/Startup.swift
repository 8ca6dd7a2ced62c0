import Locking

/// What the process still has to do before it is ready (default jobs, the scheduler);
/// readiness answers 503 with it until ``markReady()``.
public final class Startup: Sendable {
    private let pending: Locked<String?>

    public init(pending: String? = "starting") { self.pending = Locked(pending) }

    public func update(_ step: String) { pending.withLock { $0 = step } }
    public func markReady() { pending.withLock { $0 = nil } }
    public var pendingStep: String? { pending.withLock { $0 } }
}
