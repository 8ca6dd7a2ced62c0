import Chronology
import Synchronization

/// The one test double: a clock that says what the test sets. Give it to the code under test as
/// `JobClock.test { clock.now }`.
public final class TestClock: Sendable {
    private let current: Mutex<Timestamp>

    public init(_ now: Timestamp) { current = Mutex(now) }

    public var now: Timestamp {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// Moves the clock on by `seconds`.
    public func advance(seconds: Int64) {
        current.withLock { $0 = $0 + seconds * 1_000_000 }
    }
}
