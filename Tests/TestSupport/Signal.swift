import Foundation

/// Collects values arriving from other threads and lets a test wait, with a deadline, until one
/// matching a condition has arrived: waiting for a signal instead of sleeping.
public final class Arrivals<Value>: @unchecked Sendable {
    // @unchecked: every access holds `condition`.
    private let condition = NSCondition()
    private var values: [Value] = []

    public init() {}

    public func append(_ value: Value) {
        condition.withLock {
            values.append(value)
            condition.broadcast()
        }
    }

    public var all: [Value] { condition.withLock { values } }

    /// Blocks until a value satisfying `matches` has arrived (returning it) or `timeout` passes (nil).
    public func wait(timeout: TimeInterval = 10, for matches: (Value) -> Bool) -> Value? {
        var found: Value?
        _ = waitForAll(timeout: timeout) { all in
            found = all.first(where: matches)
            return found != nil
        }
        return found
    }

    /// Blocks until everything arrived so far, in order, satisfies `holds` (true) or `timeout`
    /// passes (false): for a sequence, such as "listening, then asleep".
    public func waitForAll(timeout: TimeInterval = 10, _ holds: ([Value]) -> Bool) -> Bool {
        let stopwatch = Stopwatch()
        return condition.withLock {
            while true {
                if holds(values) { return true }
                guard stopwatch.elapsed < timeout else { return false }
                // Short waits, so the time left is judged again after a stall of the host.
                condition.wait(until: Date().addingTimeInterval(0.1))
            }
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; for facts only the database
/// can tell (a backend has exited), where there is no signal to wait for.
public func eventually(timeout: TimeInterval = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let stopwatch = Stopwatch()
    while stopwatch.elapsed < timeout {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return try condition()
}
