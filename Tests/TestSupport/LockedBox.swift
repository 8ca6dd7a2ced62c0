import Foundation

/// A value shared between threads in a test, behind a lock.
public final class LockedBox<Value>: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func get() -> Value { lock.withLock { value } }
    public func set(_ newValue: Value) { lock.withLock { value = newValue } }

    @discardableResult
    public func update<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}

/// Tests that open hundreds of descriptors take turns, so that together they stay well inside
/// the process's limit and the host's loopback port range.
public enum ManyDescriptors {
    private static let lock = NSLock()

    /// Runs `body` (on a thread that may block) while no other such test runs.
    public static func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock { try body() }
    }
}
