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
    private let stalledAtStart: UInt64

    public init() {
        let (now, stalled) = Heartbeat.shared.reading()
        startedAt = now
        stalledAtStart = stalled
    }

    /// Seconds since `init`, without the stalls in between: for "at most" bounds.
    public var elapsed: TimeInterval {
        let (now, stalled) = Heartbeat.shared.reading()
        let running = (now &- startedAt) &- (stalled &- stalledAtStart)
        return TimeInterval(running) / 1e9
    }

    /// Seconds the process stood still since `init`: an allowance for lateness measured by
    /// another clock (the database's), which a stall adds to.
    public var stalled: TimeInterval { elapsedWithStalls - elapsed }

    /// Seconds since `init` on the monotonic clock, stalls included: for "at least" bounds.
    public var elapsedWithStalls: TimeInterval {
        TimeInterval(Heartbeat.now() &- startedAt) / 1e9
    }
}

/// One thread for the whole test process that notices when it did not run for a while.
private final class Heartbeat: @unchecked Sendable {
    // @unchecked: `lastTick` and `stalled` are only touched while holding `lock`.
    static let shared = Heartbeat()

    private let lock = NSLock()
    private var lastTick: UInt64
    private var stalled: UInt64 = 0

    private init() {
        lastTick = Self.now()
        let thread = Thread { [unowned self] in
            while true {
                Thread.sleep(forTimeInterval: Stopwatch.tick)
                lock.withLock { _ = account(upTo: Self.now(), advancing: true) }
            }
        }
        thread.name = "test.stopwatch.heartbeat"
        thread.start()
    }

    /// Now and the stalled total, counting a stall still under way that the heartbeat has not
    /// woken up to notice yet (the reader may run first after a freeze).
    func reading() -> (now: UInt64, stalled: UInt64) {
        lock.withLock {
            let now = Self.now()
            return (now, account(upTo: now, advancing: false))
        }
    }

    /// The stalled total as of `now`; with `advancing`, the gap up to `now` is booked for good.
    private func account(upTo now: UInt64, advancing: Bool) -> UInt64 {
        let gap = now &- lastTick
        let threshold = UInt64(Stopwatch.stallThreshold * 1e9)
        let extra = gap > threshold ? gap - UInt64(Stopwatch.tick * 1e9) : 0
        guard advancing else { return stalled + extra }
        stalled += extra
        lastTick = now
        return stalled
    }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC): unaffected by the wall clock being set.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
