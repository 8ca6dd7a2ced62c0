import Chronology
import Foundation
import Logging
import Postgres

/// The scheduler loop: one per process, any number per database. It fires what is due in
/// batches, then sleeps until the earliest `next_run_time`, until a NOTIFY on
/// ``JobStore/changesChannel`` says jobs changed, or at most ``Configuration/maximumSleep``.
/// It never polls faster than that: with nothing due and nothing changing it wakes once per
/// maximum sleep, to cover a NOTIFY lost while its listener reconnected. "Now" is its firer's
/// ``JobClock``: the database's, or a test's.
public final class Scheduler: @unchecked Sendable {
    // @unchecked: `wakeRequested`, `stopping`, `started` and `finished` are guarded by
    // `condition`; `listener` is written once, in `start()`.

    public struct Configuration: Sendable {
        /// Jobs claimed per transaction.
        public var batchSize = 500
        /// The longest sleep between two looks at the database: at most ``Scheduler/longestSleep``,
        /// which a longer one is cut to.
        public var maximumSleep: Duration = .seconds(30) {
            didSet { if maximumSleep > Scheduler.longestSleep { maximumSleep = Scheduler.longestSleep } }
        }
        /// The pause after a failed batch (database unreachable, say), before trying again.
        /// Short, so that firing resumes within moments of the database's return; a pool's
        /// connection attempt (a couple of seconds at most) bounds how often it is really tried.
        public var retryDelay: Duration = .milliseconds(500)
        /// How often the loop looks for pending runs that nobody settled (see ``tidyRuns()``).
        public var settleSweepInterval: Duration = .seconds(10)
        /// Transactions that fire at once while more than a batch is due: the loop's and its
        /// helpers' (see ``FiringLanes``), each holding a connection of the firer's pool.
        public var firingLanes = 2

        public init(
            batchSize: Int = 500, maximumSleep: Duration = .seconds(30), retryDelay: Duration = .milliseconds(500),
            settleSweepInterval: Duration = .seconds(10), firingLanes: Int = 2
        ) {
            self.batchSize = batchSize
            self.maximumSleep = min(maximumSleep, Scheduler.longestSleep)
            self.retryDelay = retryDelay
            self.settleSweepInterval = settleSweepInterval
            self.firingLanes = max(1, firingLanes)
        }
    }

    /// The longest any scheduler sleeps without looking at the database: writes of jobs due
    /// later than ``JobStore/wakeHorizon`` send no wake-up, and count on it.
    public static let longestSleep: Duration = .seconds(30)

    /// What the loop does, as it does it: for metrics, and for tests to wait on instead of sleeping.
    /// Batches are reported by whichever lane fired them.
    public enum Event: Sendable {
        /// A look at the database committed, whether or not it claimed jobs.
        case batch(JobFirer.Report)
        /// A look at the database failed (it is unreachable, say); the loop retries.
        case failed(String)
        /// The loop is going to sleep for at most this long, unless woken sooner.
        case sleeping(Duration)
        /// The change listener is connected: from now on a committed change wakes the loop.
        case listening
    }

    private let firer: JobFirer
    private let configuration: Configuration
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void
    private var listener: PostgresListener?
    private var lanes: FiringLanes?
    /// When the loop last swept for unsettled runs; touched only by the loop's thread.
    private var lastSweep: ContinuousClock.Instant?
    /// Where the next step of the settle sweep starts (nil: from the first pending run).
    private var sweepCursor: FiringIdentity?
    /// Jobs due together at the earliest due time, as last seen (at most twice a batch); touched
    /// only by the loop's thread.
    private var dueTogether = 0

    /// How close to the earliest due time a job counts as due with it, for ``dueTogether``.
    static let burstWindow: Duration = .milliseconds(50)

    private let condition = NSCondition()
    private var wakeRequested = false
    private var stopping = false
    private var started = false
    private var finished = false

    /// - Parameter onEvent: told of every ``Event``, on the loop's thread (a helper lane's, for
    ///   its batches; the listener's, for ``Event/listening``); it must return quickly.
    public init(
        firer: JobFirer, configuration: Configuration = Configuration(), logger: Logger,
        onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) {
        self.firer = firer
        self.configuration = configuration
        self.logger = logger
        self.onEvent = onEvent
    }

    /// Starts listening for changes and the loop on a thread of its own.
    public func start() throws {
        let listener = try PostgresListener(
            firer.pool.configuration, channels: [JobStore.changesChannel], queue: DispatchQueue(label: "kairos.scheduler.wake")
        ) { [weak self] event in
            switch event {
            case .notification: self?.wake()
            case .connected:
                // Changes committed while it was not listening are looked at now.
                self?.wake()
                self?.onEvent(.listening)
            case .disconnected(let error):
                self?.logger.warning("scheduler lost its change listener; reconnecting", metadata: ["error": "\(error)"])
            }
        }
        self.listener = listener
        listener.start()
        if configuration.firingLanes > 1 {
            lanes = FiringLanes(helpers: configuration.firingLanes - 1, name: "kairos.scheduler.lane") { [weak self] in
                self?.fireHelperBatch() ?? false
            }
        }
        let thread = Thread { [self] in loop() }
        thread.name = "kairos.scheduler"
        condition.withLock { started = true }
        thread.start()
    }

    /// Stops claiming, lets the batch under way commit, and returns when the loop has ended.
    public func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while started && !finished { condition.wait() }
        }
        lanes?.stop()
        listener?.stop()
    }

    /// Makes the loop look at the database now.
    public func wake() {
        condition.withLock {
            wakeRequested = true
            condition.broadcast()
        }
    }

    // MARK: The loop

    private func loop() {
        defer {
            condition.withLock {
                finished = true
                condition.broadcast()
            }
        }
        while !condition.withLock({ stopping }) {
            // Cleared before looking, so a change committed while we look wakes the next sleep.
            condition.withLock { wakeRequested = false }
            // More than a batch due at this instant: the helpers take their shares at once.
            if dueTogether > configuration.batchSize { lanes?.assist() }
            dueTogether = 0
            let sleep: Duration
            do {
                let report = try firer.fireDue(limit: configuration.batchSize)
                onEvent(.batch(report))
                // A full batch means more may be due: go again at once, with help.
                if report.claimed == configuration.batchSize {
                    lanes?.assist()
                    continue
                }
                // Their batches commit before the loop looks at what is left.
                lanes?.waitUntilIdle()
                try tidyRuns()
                // Due but nothing claimed: another scheduler holds those jobs. Give it a moment
                // to commit rather than spin.
                sleep = max(try timeUntilNextDue(), report.claimed == 0 ? .milliseconds(2) : .zero)
            } catch {
                logger.error("scheduler batch failed; retrying", metadata: ["error": "\(error)"])
                onEvent(.failed("\(error)"))
                sleep = configuration.retryDelay
            }
            onEvent(.sleeping(sleep))
            sleepUnlessWoken(for: sleep)
        }
    }

    /// Between bursts of firing: carries out the firings `buffer_one` held whose previous work
    /// has ended (a run settled by a worker's last verb wakes the loop for it), and now and then
    /// settles runs whose last flow ended in a process that died before it could settle them.
    private func tidyRuns() throws {
        while try firer.releaseBuffered(limit: 100) == 100 {}
        let now = ContinuousClock.now
        guard lastSweep.map({ now - $0 >= configuration.settleSweepInterval }) ?? true else { return }
        lastSweep = now
        // Bounded steps from where the last stopped, for at most `settleSweepBudget` a turn (a
        // step is a few milliseconds however many runs are open): judging them all at once held
        // this loop for a second with 500,000 open (flows nobody has claimed) and made the next
        // firings that late.
        let started = ContinuousClock.now
        repeat {
            sweepCursor = try firer.settleSweepStep(after: sweepCursor).cursor
        } while sweepCursor != nil && ContinuousClock.now - started < Self.settleSweepBudget
    }

    /// The longest a turn of the loop spends on the settle sweep's steps.
    static let settleSweepBudget: Duration = .milliseconds(25)

    /// One batch of a helper lane; whether it was full.
    private func fireHelperBatch() -> Bool {
        do {
            let report = try firer.fireDue(limit: configuration.batchSize)
            onEvent(.batch(report))
            return report.claimed == configuration.batchSize
        } catch {
            logger.error("scheduler batch failed (a helper lane); the loop retries", metadata: ["error": "\(error)"])
            onEvent(.failed("\(error)"))
            return false
        }
    }

    /// Time until the earliest `next_run_time` by the firer's clock, at most the maximum
    /// sleep; the maximum while the service is paused (its resume sends a NOTIFY). Notes how
    /// many jobs are due with the earliest, for the lanes.
    private func timeUntilNextDue() throws -> Duration {
        let row = try firer.pool.withConnection { connection in
            try connection.query(
                JobsTable.jobEarliestDue(clock: firer.clock, countingWithin: Self.burstWindow, upTo: 2 * configuration.batchSize))[0]
        }
        guard try row.decode(ServiceState.self, column: "service") == .running,
            let next = try row.decode(Timestamp?.self, column: "next_run_time")
        else { return configuration.maximumSleep }
        dueTogether = try row.decode(Int.self, column: "due_together")
        let wait = Duration.microseconds(max(0, next - (try row.decode(Timestamp.self, column: "now"))))
        return min(wait, configuration.maximumSleep)
    }

    private func sleepUnlessWoken(for duration: Duration) {
        guard duration > .zero else { return }
        let deadline = Date().addingTimeInterval(duration.timeInterval)
        condition.withLock {
            while !wakeRequested && !stopping {
                if !condition.wait(until: deadline) { break }
            }
        }
    }
}
