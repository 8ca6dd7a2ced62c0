import Chronology
import Foundation
import Logging
import Postgres

/// `KAIROS_RETAIN`: final runs, final flows and failure records older than the retention period
/// are deleted by the service itself, in bounded batches (``Configuration/batchSize`` rows a
/// transaction, then a rest of at least three times as long: ``Configuration/busyShare``), one
/// sweep every ``Configuration/interval``. Any number
/// of replicas may sweep at once: each batch skips the rows another holds.
///
/// Rows still under way (pending or buffered runs, unclaimed or claimed flows) are never
/// deleted, whatever their age. A run deleted this way no longer holds its slot's firing
/// identity: a backfill reaching further back than the retention period may fire that slot
/// again, as it would a slot that never ran.
public final class RetentionSweeper: @unchecked Sendable {
    // @unchecked: `stopping` and `thread` are guarded by `condition`.

    public struct Configuration: Sendable, Equatable {
        /// How long rows are kept.
        public var retain: Duration
        /// Rows deleted per transaction.
        public var batchSize: Int
        /// From the end of one sweep to the start of the next.
        public var interval: Duration
        /// The shortest pause between two batches of one sweep.
        public var pauseBetweenBatches: Duration
        /// The most of a sweep's time spent deleting (0 to 1]: after a batch that took `d`, the
        /// sweep rests `d × (1 − share) / share`, so a backlog of millions is worked off at a
        /// pace the database's other work hardly notices. Measured on the development machine,
        /// 1,000 jobs firing every second while 10,000,000 old runs were pruned: deleting 2,000
        /// rows a batch with only 10 ms between batches (52,000 rows/s) took their lateness p99
        /// from 55 ms to 444 ms.
        public var busyShare: Double

        public static let defaultRetention: Duration = .seconds(30 * 86_400)

        public init(
            retain: Duration = Configuration.defaultRetention, batchSize: Int = 500, interval: Duration = .seconds(60),
            pauseBetweenBatches: Duration = .milliseconds(10), busyShare: Double = 0.25
        ) {
            precondition(batchSize > 0, "a batch deletes at least one row")
            precondition(busyShare > 0 && busyShare <= 1, "the busy share is more than 0 and at most 1")
            self.retain = retain
            self.batchSize = batchSize
            self.interval = interval
            self.pauseBetweenBatches = pauseBetweenBatches
            self.busyShare = busyShare
        }

        /// The rest after a batch that took `batchTime`.
        public func pause(after batchTime: Duration) -> Duration {
            max(pauseBetweenBatches, batchTime * ((1 - busyShare) / busyShare))
        }
    }

    /// Rows deleted, by kind: `runs`, `flows`, `failure_records`.
    public typealias Deleted = [String: Int]

    public let configuration: Configuration
    private let pool: PostgresPool
    private let clock: JobClock
    private let logger: Logger
    private let onBatch: @Sendable (_ kind: String, _ deleted: Int) -> Void
    private let condition = NSCondition()
    private var stopping = false
    private var running = false

    public init(
        pool: PostgresPool, clock: JobClock = .database, configuration: Configuration = Configuration(), logger: Logger,
        onBatch: @escaping @Sendable (_ kind: String, _ deleted: Int) -> Void = { _, _ in }
    ) {
        self.pool = pool
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.onBatch = onBatch
    }

    /// One sweep: every kind, batch after batch until a batch comes back short. Returns what it
    /// deleted. Stops between batches when ``stop()`` is called.
    @discardableResult
    public func sweep() throws -> Deleted {
        var deleted: Deleted = [:]
        let cutoff = try pool.withConnection { try clock.now(on: $0) } - configuration.retain.microseconds
        for kind in RetentionTable.Kind.allCases {
            var floor: Timestamp?
            while !isStopping {
                let started = ContinuousClock.now
                let count = try pool.withConnection { connection in
                    let row = try connection.query(RetentionTable.deleteBatch(kind, olderThan: cutoff, from: floor, limit: configuration.batchSize))[0]
                    floor = try row.decode(Timestamp?.self, column: "last") ?? floor
                    return try row.decode(Int.self, column: "n")
                }
                deleted[kind.rawValue, default: 0] += count
                if count > 0 { onBatch(kind.rawValue, count) }
                guard count == configuration.batchSize else { break }
                pause(configuration.pause(after: ContinuousClock.now - started))
            }
        }
        if deleted.values.contains(where: { $0 > 0 }) {
            logger.info(
                "retention deleted old rows",
                metadata: deleted.reduce(into: ["older_than": "\(cutoff.iso8601)"]) { $0[$1.key] = .stringConvertible($1.value) })
        }
        return deleted
    }

    /// Sweeps now and then every ``Configuration/interval``, on a thread of its own, until
    /// ``stop()``. A failed sweep (the database away) is logged and tried again next time.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        stopping = false
        let thread = Thread { [self] in
            while !isStopping {
                do {
                    try sweep()
                } catch {
                    logger.warning("retention sweep failed; trying again later", metadata: ["error": "\(error)"])
                }
                pause(configuration.interval)
            }
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "kairos-retention"
        thread.start()
    }

    /// Stops the sweeping thread, waiting for the batch under way.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Sleeps for `duration`, or less if ``stop()`` is called.
    private func pause(_ duration: Duration) {
        let deadline = Date().addingTimeInterval(duration.timeInterval)
        condition.lock()
        defer { condition.unlock() }
        while !stopping && condition.wait(until: deadline) {}
    }
}
