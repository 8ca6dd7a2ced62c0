import Foundation

/// A value behind a lock: what Synchronization's `Mutex` is for, on glibc's ordinary mutex.
///
/// Not `Mutex` because on Linux it waits on priority-inheritance futexes and spins first: with
/// a pool's sixteen workers contending for the database pool on two cores, a fifth of the
/// process's CPU went to `_MutexHandle._lockSlow`, and `GET /jobs/{id}` served 2,700 requests
/// a second with a p99 of 177 ms; on this lock, 4,200 and 78 ms.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is touched only inside `withLock`.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with the value, holding the lock. Keep it short: no I/O, no waiting.
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
