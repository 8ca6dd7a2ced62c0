import Foundation

/// Elapsed time for a timing bound in a test, leaving out the moments when the whole process
/// stood still.
///
/// A shared CI host can stop a virtual machine for seconds at a time (seen in CI: every thread of
/// the test process, and the server under test with it, frozen for ten seconds). A bound such as
/// "the server cuts a trickling client off within 2 s" is about our code, not the host, so a
/// heartbeat thread ticks every ``tick`` and a gap longer than ``stallThreshold`` between two
/// ticks, a time in which no thread of ours was running, is not counted. A server that is slow
/// while the process runs normally is still measured in full: the heartbeat keeps ticking then.
///
/// A lower bound is the other way round: the server's own timers kept counting through a stall,
/// so "not before 0.3 s" is judged on ``elapsedWithStalls``.
///
/// ```swift
/// let stopwatch = Stopwatch()
/// #expect(connection.closedByServer(within: 3))
/// #expect(stopwatch.elapsedWithStalls > 0.3 && stopwatch.elapsed < 2)
/// ```
public struct Stopwatch: Sendable {
    public static let tick: TimeInterval = 0.01
    public static let stallThreshold: TimeInterval = 0.25

    private let startedAt: UInt64

    public init() {
        _ = Heartbeat.shared  // started before the first reading, or its first stall would be missed
        startedAt = Heartbeat.now()
    }

    /// Seconds since `init`, without the stalls in between: for "at most" bounds.
    public var elapsed: TimeInterval { reading().running }

    /// Seconds the process stood still since `init`: an allowance for lateness measured by
    /// another clock (the database's), which a stall adds to.
    public var stalled: TimeInterval { reading().stalled }

    /// One look at the clock, split into running and stalled seconds.
    private func reading() -> (running: TimeInterval, stalled: TimeInterval) {
        let now = Heartbeat.now()
        let stalled = Heartbeat.shared.stalledNanoseconds(from: startedAt, to: now)
        return (TimeInterval(now - startedAt - stalled) / 1e9, TimeInterval(stalled) / 1e9)
    }

    /// Seconds since `init` on the monotonic clock, stalls included: for "at least" bounds.
    public var elapsedWithStalls: TimeInterval {
        TimeInterval(Heartbeat.now() - startedAt) / 1e9
    }
}

/// One thread for the whole test process that notices when it did not run for a while.
private final class Heartbeat: @unchecked Sendable {
    // @unchecked: `lastTick` and `stalls` are only touched while holding `lock`.
    static let shared = Heartbeat()

    private let lock = NSLock()
    private var lastTick: UInt64
    /// The stalls seen so far, oldest first, as monotonic [start, end) nanoseconds.
    private var stalls: [Range<UInt64>] = []

    private init() {
        lastTick = Self.now()
        let thread = Thread { [unowned self] in
            while true {
                Thread.sleep(forTimeInterval: Stopwatch.tick)
                let now = Self.now()
                lock.withLock {
                    if let stall = stall(endingAt: now) { stalls.append(stall) }
                    lastTick = now
                }
            }
        }
        thread.name = "test.stopwatch.heartbeat"
        thread.start()
    }

    /// How much of `start..<end` the process stood still, counting a stall still under way that
    /// the heartbeat has not woken up to notice yet (the reader may run first after a freeze).
    func stalledNanoseconds(from start: UInt64, to end: UInt64) -> UInt64 {
        lock.withLock {
            let window = start..<max(start, end)
            let ongoing = stall(endingAt: end).map { [$0] } ?? []
            return (stalls + ongoing).reduce(0) { total, stall in
                let overlap = stall.clamped(to: window)
                return total + UInt64(overlap.count)
            }
        }
    }

    /// The gap since the last tick, less the tick itself, when it is long enough to be a stall.
    private func stall(endingAt now: UInt64) -> Range<UInt64>? {
        let expected = lastTick + UInt64(Stopwatch.tick * 1e9)
        guard now > lastTick + UInt64(Stopwatch.stallThreshold * 1e9) else { return nil }
        return expected..<now
    }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC): unaffected by the wall clock being set.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
