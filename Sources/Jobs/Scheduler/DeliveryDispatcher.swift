import Chronology
import Dispatch
import Foundation
import JSON
import Logging
import Outbound
import Postgres
import Locking

/// What a firer rings once it has committed deliveries, so the dispatcher takes them up at once
/// rather than at its next look. Rings before a dispatcher answers it are kept as one.
public final class DeliveryDoorbell: Sendable {
    private let state = Locked<(answer: (@Sendable () -> Void)?, missed: Bool)>((nil, false))

    public init() {}

    public func ring() {
        let answer: (@Sendable () -> Void)? = state.withLock { state in
            if state.answer == nil { state.missed = true }
            return state.answer
        }
        answer?()
    }

    func answer(with handler: @escaping @Sendable () -> Void) {
        let missed = state.withLock { state in
            state.answer = handler
            defer { state.missed = false }
            return state.missed
        }
        if missed { handler() }
    }
}

/// Carries out deliveries (webhook calls) at least once. It takes a delivery only when one of its
/// ``Configuration/concurrency`` slots is free, leased for the call's timeout and a margin, and
/// calls it at once on the slot's own thread (so a delivery never waits in a queue while its
/// lease runs out), outside any transaction; then records the attempt (done, due again after a
/// backoff, or failed for good: then its run too, and a failure record) and, in the same
/// transaction, takes the slot's next due delivery. Attempts count against `max_attempts` only
/// once recorded. A process killed mid-call leaves the lease to run out, and any process
/// takes the delivery up again with the same `webhook-id`. Any number of dispatchers share one
/// database; a slow target holds only its own slot.
public final class DeliveryDispatcher: Sendable {
    public struct Configuration: Sendable {
        /// Calls at once (each on a thread of its own while it waits for the target).
        public var concurrency: Int
        /// Added to a call's timeout for its lease: the time to record its outcome.
        public var leaseMargin: Duration
        /// The longest the loop sleeps without looking (other processes' retries are due by time alone).
        public var longestSleep: Duration

        public init(concurrency: Int = 16, leaseMargin: Duration = .seconds(30), longestSleep: Duration = .seconds(5)) {
            self.concurrency = max(1, concurrency)
            self.leaseMargin = leaseMargin
            self.longestSleep = longestSleep
        }
    }

    public let configuration: Configuration
    let pool: PostgresPool
    let client: HTTPClient
    let clock: JobClock
    let logger: Logger
    public let doorbell: DeliveryDoorbell

    private struct State {
        var running = 0
        var stopped = false
        /// Inside ``dispatchDue()``: ``stop(grace:)`` waits for it, so no call starts after.
        var dispatching = false
        var loopStarted = false
    }

    private let state = Locked(State())
    private let wake = DispatchSemaphore(value: 0)
    private let loopEnded = DispatchSemaphore(value: 0)
    private let idle = DispatchGroup()

    /// Takeovers of a delivery with no attempt recorded (its process stopped mid-call each time)
    /// beyond its attempts, after which it fails without another call: a row that kills every
    /// process that takes it must not do so forever.
    static let spareTakeovers = 3

    public init(
        pool: PostgresPool, client: HTTPClient, clock: JobClock = .database, configuration: Configuration = Configuration(),
        doorbell: DeliveryDoorbell = DeliveryDoorbell(), logger: Logger = Logger(label: "kairos.deliveries")
    ) {
        self.pool = pool
        self.client = client
        self.clock = clock
        self.configuration = configuration
        self.doorbell = doorbell
        self.logger = logger
        doorbell.answer { [weak self] in self?.wake.signal() }
    }

    /// Starts the loop: it takes up due deliveries when rung, when a slot frees, at the next
    /// delivery's due time, and at least every ``Configuration/longestSleep``.
    public func start() {
        state.withLock { $0.loopStarted = true }
        let thread = Thread { [self] in
            run()
            loopEnded.signal()
        }
        thread.name = "kairos.deliveries"
        thread.start()
    }

    /// Stops taking deliveries; waits up to `grace` for calls under way to be recorded. False
    /// when some were not (their leases run out, and another process takes them up).
    @discardableResult
    public func stop(grace: Duration) -> Bool {
        let looping = state.withLock { state in
            state.stopped = true
            return state.loopStarted
        }
        wake.signal()
        let deadline = DispatchTime.now() + grace.timeInterval
        if looping, loopEnded.wait(timeout: deadline) == .timedOut { return false }
        return idle.wait(timeout: deadline) == .success
    }

    /// Blocks until no call is under way, or `timeout` passes; false then.
    @discardableResult
    public func waitUntilIdle(timeout: Duration) -> Bool {
        idle.wait(timeout: .now() + timeout.timeInterval) == .success
    }

    /// Calls under way now.
    public var running: Int { state.withLock { $0.running } }

    /// Takes as many due deliveries as there are free slots and starts their calls. Returns how
    /// many it started. (The loop calls it; a test with its own clock may call it directly.)
    @discardableResult
    public func dispatchDue() throws -> Int {
        let free = state.withLock { state -> Int in
            guard !state.stopped, !state.dispatching else { return 0 }
            state.dispatching = true
            return configuration.concurrency - state.running
        }
        defer { state.withLock { $0.dispatching = false } }
        guard free > 0 else { return 0 }
        let rows = try pool.withConnection { connection in
            try connection.query(DeliveriesTable.deliveryClaim(limit: free, clock: clock, margin: configuration.leaseMargin))
        }
        for row in rows {
            // A row this version cannot read is left to its lease (and logged), not the batch.
            guard let delivery = try? ClaimedDelivery(row) else {
                logger.error("a delivery cannot be read by this version of Kairos", metadata: ["run.id": "\((try? row.decode(Int64.self, column: "run_id")) ?? -1)"])
                continue
            }
            state.withLock { $0.running += 1 }
            idle.enter()
            // A thread of its own, started at once: a call never waits in a queue while its
            // lease runs out, and a slow target holds no thread anything else needs.
            let thread = Thread { [self] in
                // The slot goes on with the next due delivery, taken in the transaction that
                // records this one: one commit per call, and no turn through the loop.
                var next: ClaimedDelivery? = delivery
                while let current = next { next = attempt(current) }
                state.withLock { $0.running -= 1 }
                idle.leave()
                wake.signal()  // a slot is free
            }
            thread.name = "kairos.webhook"
            thread.start()
        }
        return rows.count
    }

    private func run() {
        while !state.withLock({ $0.stopped }) {
            var sleep = configuration.longestSleep
            do {
                try dispatchDue()
                // Every slot taken: only a freed slot (or a ring) can change anything.
                guard state.withLock({ $0.running < configuration.concurrency }) else {
                    _ = wake.wait(timeout: .now() + sleep.timeInterval)
                    continue
                }
                let next = try pool.withConnection { try $0.query(DeliveriesTable.deliveryNextDue(clock: clock))[0] }
                if let due = try next.decode(Timestamp?.self, column: "next") {
                    let wait = Duration.microseconds(max(0, due - (try next.decode(Timestamp.self, column: "now"))))
                    sleep = min(sleep, wait)
                }
            } catch {
                logger.warning("deliveries could not be taken up; trying again", metadata: ["error": "\(error)"])
            }
            // Woken early by a ring or a freed slot; a due time already passed is looked at again
            // after a moment, not at once (its slots may all be taken).
            _ = wake.wait(timeout: .now() + max(sleep, .milliseconds(10)).timeInterval)
        }
    }

    // MARK: One attempt

    /// A delivery just taken, with what its attempt needs.
    struct ClaimedDelivery: Sendable {
        var runID: Int64
        var firing: FiringIdentity
        var request: JSONObject
        var maxAttempts: Int
        /// How many times it was taken, this time included: the `attempt` the receiver sees.
        var attempt: Int
        /// Attempts recorded before this one: what counts against `maxAttempts` (an attempt
        /// whose process stopped mid-call does not).
        var recordedAttempts: Int
        var token: String
        var now: Timestamp
        /// The job's, now, for the firing document (nil when the request has its own body, or
        /// the job was deleted meanwhile).
        var kwargs: JSONObject?
        /// The job's secret, now.
        var secret: String?
        var handler: String?

        init(_ row: PostgresRow) throws {
            runID = try row.decode(Int64.self, column: "run_id")
            firing = FiringIdentity(jobID: try row.decode(String.self, column: "job_id"), scheduledFor: try row.decode(Timestamp.self, column: "scheduled_for"))
            request = try row.decode(JSONValue.self, column: "request").objectValue ?? [:]
            maxAttempts = try row.decode(Int.self, column: "max_attempts")
            attempt = try row.decode(Int.self, column: "attempt")
            recordedAttempts = try row.decode(Int.self, column: "recorded_attempts")
            token = try row.decode(String.self, column: "lease_token")
            now = try row.decode(Timestamp.self, column: "now")
            kwargs = try row.decode(JSONValue?.self, column: "kwargs")?.objectValue
            handler = try row.decode(String?.self, column: "handler")
            secret = try row.decode(JSONValue?.self, column: "secret")?.stringValue
        }
    }

    /// Makes the attempt and records it; returns the next due delivery, taken for this slot.
    private func attempt(_ delivery: ClaimedDelivery) -> ClaimedDelivery? {
        let outcome: AttemptOutcome
        if delivery.attempt > delivery.maxAttempts + Self.spareTakeovers {
            outcome = AttemptOutcome(
                error: "taken up \(delivery.attempt - 1) times by processes that stopped before recording an attempt; not called again")
        } else if delivery.handler != nil, delivery.handler != "Webhook" {
            outcome = AttemptOutcome(error: "the job was replaced by a \(delivery.handler!) job since this firing; not called")
        } else if let request = WebhookRequest(stored: delivery.request) {
            outcome = call(request, delivery)
        } else {
            outcome = AttemptOutcome(error: "the recorded request cannot be read by this version of Kairos")
        }
        return record(outcome, of: delivery)
    }

    /// What one attempt met.
    struct AttemptOutcome: Sendable {
        var status: Int?
        var latency: Duration = .zero
        var error: String?
        var answer: [UInt8] = []

        var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
    }

    private func call(_ request: WebhookRequest, _ delivery: ClaimedDelivery) -> AttemptOutcome {
        let kwargs = delivery.kwargs ?? [:]
        // Read at each attempt, so a rotated secret signs the retries. A firing recorded as
        // signed is never sent unsigned (its job's secret removed or unreadable since).
        let secret = delivery.secret.flatMap { try? WebhookSecret($0) }
        if request.signed, secret == nil {
            return AttemptOutcome(error: "the job has no usable secret any more, and this firing was to be signed; not sent unsigned")
        }
        let message = WebhookMessage.outbound(
            request, firing: delivery.firing, runID: delivery.runID, attempt: delivery.attempt, kwargs: kwargs, secret: secret,
            timestamp: Int64(Date().timeIntervalSince1970))
        let started = ContinuousClock.now
        let result = client.send(message)
        let latency = ContinuousClock.now - started
        switch result {
        case .success(let answer):
            var outcome = AttemptOutcome(status: answer.status, latency: latency, answer: answer.head)
            if !outcome.succeeded {
                outcome.error = (300..<400).contains(answer.status)
                    ? "answered \(answer.status), a redirect, which webhooks do not follow" : "answered \(answer.status)"
            }
            return outcome
        case .failure(let failure):
            return AttemptOutcome(latency: latency, error: failure.message)
        }
    }

    private func logLostLease(_ delivery: ClaimedDelivery) {
        logger.warning(
            "delivery attempt not recorded: its lease ran out and another process took it up",
            metadata: ["run.id": "\(delivery.runID)", "attempt": "\(delivery.attempt)"])
    }

    /// Text as PostgreSQL can store it (no U+0000).
    static func storable(_ text: String) -> String {
        text.contains("\u{0}") ? String(text.unicodeScalars.filter { $0 != "\u{0}" }) : text
    }

    private func record(_ outcome: AttemptOutcome, of delivery: ClaimedDelivery) -> ClaimedDelivery? {
        let retryDelay = (delivery.request["retry_delay_us"]?.intValue).map { max(0, $0) } ?? 10_000_000
        let final = outcome.succeeded || delivery.recordedAttempts + 1 >= delivery.maxAttempts
            || delivery.attempt > delivery.maxAttempts + Self.spareTakeovers
        let state: DeliveryState = outcome.succeeded ? .succeeded : final ? .failed : .due
        let retryAfter = final ? nil : RetryBackoff.wait(
            base: retryDelay, afterAttempt: delivery.recordedAttempts + 1, jitter: Double.random(in: -0.1...0.1), longest: WorkPolicy.longestRetryDelay.microseconds)
        var entry: JSONObject = [
            "attempt": .int(Int64(delivery.attempt)), "at": .string(delivery.now.iso8601),
            "status_code": outcome.status.map { .int(Int64($0)) } ?? .null,
            "latency_ms": .double((outcome.latency.timeInterval * 1000 * 10).rounded() / 10),
            "error": outcome.error.map(JSONValue.string) ?? .null,
        ]
        // jsonb cannot hold U+0000, which a binary answer may: dropped, so the attempt is recorded.
        entry["answer"] = outcome.answer.isEmpty ? .null : .string(Self.storable(String(decoding: outcome.answer, as: UTF8.self)))
        entry["error"] = outcome.error.map { .string(Self.storable($0)) } ?? .null
        let error = state == .failed
            ? Self.storable("webhook failed after \(delivery.recordedAttempts + 1) attempt(s): \(outcome.error ?? "unknown error")") : nil
        var next: ClaimedDelivery?
        let claimsNext = !self.state.withLock { $0.stopped }
        do {
            if state != .failed, claimsNext {
                // The common case: one statement records this attempt and takes the next one.
                let row = try pool.withConnection { connection in
                    try connection.query(DeliveriesTable.deliveryRecordAndClaimNext(
                        runID: delivery.runID, token: delivery.token, attempt: .object(entry), state: state, retryAfter: retryAfter,
                        error: error, clock: clock, margin: configuration.leaseMargin))[0]
                }
                if try row.decode(Int.self, column: "recorded") != 1 { logLostLease(delivery) }
                next = try row.decode(Int64?.self, column: "run_id") == nil ? nil : try ClaimedDelivery(row)
            } else {
                next = try pool.withTransaction { tx -> ClaimedDelivery? in
                    let row = try tx.query(DeliveriesTable.deliveryRecord(
                        runID: delivery.runID, token: delivery.token, attempt: .object(entry), state: state, retryAfter: retryAfter,
                        error: error, clock: clock))[0]
                    if try row.decode(Int.self, column: "recorded") != 1 {
                        logLostLease(delivery)
                    } else if state == .failed, let error {
                        let kwargs = try tx.query(JobsTable.jobKwargs(id: delivery.firing.jobID)).first
                            .flatMap { try $0.decode(JSONValue.self, column: "kwargs").objectValue } ?? [:]
                        try tx.execute(FailureRecords.failureRecordInsertMany([FailureRecord(
                            error: error, trace: [], failedJobID: delivery.firing.jobID, failedHandler: delivery.handler ?? "Webhook",
                            failedKwargs: kwargs, scheduledFor: delivery.firing.scheduledFor)]))
                    }
                    guard claimsNext else { return nil }
                    return try tx.query(DeliveriesTable.deliveryClaim(limit: 1, clock: clock, margin: configuration.leaseMargin))
                        .first.map(ClaimedDelivery.init)
                }
            }
        } catch {
            // The lease runs out and the delivery is taken up again: at least once.
            logger.error("delivery attempt could not be recorded", metadata: ["run.id": "\(delivery.runID)", "error": "\(error)"])
        }
        let level: Logger.Level = state == .failed ? .warning : .info
        logger.log(
            level: level, "webhook attempt",
            metadata: [
                "job.id": "\(delivery.firing.jobID)", "run.id": "\(delivery.runID)", "attempt": "\(delivery.attempt)",
                "status": "\(outcome.status.map(String.init) ?? "-")", "delivery": "\(state.rawValue)",
                "error": "\(outcome.error ?? "-")",
            ])
        return next
    }
}
