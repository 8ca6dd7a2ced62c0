import Chronology
import JSON
import Postgres
import SQLBuilding
import Scheduling

/// Jobs, their runs and the service state in PostgreSQL. Every change that can move a
/// `next_run_time` sooner than ``wakeHorizon`` sends a NOTIFY on ``changesChannel`` in its
/// transaction, so every scheduler on the database wakes when it commits. Whatever depends on "now" is judged by ``clock``, inside
/// the transaction that writes it.
///
/// Methods block the calling thread on the pool; call them from worker threads.
public struct JobStore: Sendable {
    public static let changesChannel = JobsTable.changesChannel

    /// A job created or replaced to fire within this of the write's "now" wakes every scheduler
    /// (as does one holding a buffered run, which the write may release); one that fires later needs no wake, as every scheduler looks at the database at least every
    /// ``Scheduler/longestSleep`` (half of this: the other half covers a write's transaction,
    /// from its now to its commit). A NOTIFY is not free: PostgreSQL serializes the commits of
    /// notifying transactions on one lock, so writes that wake nobody are markedly faster
    /// (`POST /jobs` replacing random jobs: 2,850 → 3,670 requests/s on the development machine).
    public static let wakeHorizon: Duration = .seconds(60)

    /// Whether writing a job that fires next at `nextRunTime` (nil: it does not) must wake the
    /// schedulers: it fires within ``wakeHorizon`` of the write's `now`, or is overdue.
    public static func writeWakesSchedulers(firingAt nextRunTime: Timestamp?, now: Timestamp) -> Bool {
        guard let nextRunTime else { return false }
        return nextRunTime < now + wakeHorizon.microseconds
    }

    public let pool: PostgresPool
    public let clock: JobClock

    public init(pool: PostgresPool, clock: JobClock = .database) {
        self.pool = pool
        self.clock = clock
    }

    // MARK: Defining jobs

    /// Creates the job, or replaces the one with the same id (fabric8's `replace_existing`);
    /// the schedule starts afresh from now. Returns the job and whether it is new.
    /// - Throws: ``JobDefinitionError`` for a one-shot in the past.
    public func save(_ definition: JobDefinition, origin: JobOrigin) throws -> (job: Job, created: Bool) {
        try upsert([definition], origin: origin, returning: .wholeJobs) { row in
            let job = try JobsTable.decode(row)
            return (job.id, (job, try row.decode(Bool.self, column: "created")))
        }[0]
    }

    /// The most jobs one ``saveAll(_:origin:)`` takes.
    public static let maximumJobsPerSave = 10_000

    /// What a bulk write says of each job.
    public struct SavedJob: Sendable, Equatable {
        public let id: String
        /// New, rather than replacing a job of the same id.
        public let created: Bool
        public let nextRunTime: Timestamp?
    }

    /// Creates or replaces every job in one transaction, or none: as ``save(_:origin:)`` does
    /// one, in one statement for all. Ids must be distinct. Returns them in the order given.
    /// - Throws: ``JobDefinitionError`` for the first that cannot be saved, its path starting
    ///   with its index when there are several.
    public func saveAll(_ definitions: [JobDefinition], origin: JobOrigin) throws -> [SavedJob] {
        precondition(definitions.count <= Self.maximumJobsPerSave, "saveAll takes at most \(Self.maximumJobsPerSave) jobs")
        return try upsert(definitions, origin: origin, returning: .summaries) { row in
            let id = try row.decode(String.self, column: "job_id")
            return (id, SavedJob(id: id, created: try row.decode(Bool.self, column: "created"), nextRunTime: try row.decode(Timestamp?.self, column: "next_run_time")))
        }
    }

    /// Writes `definitions` in one transaction and one statement; `read` turns each returned row
    /// into its id and what the caller wants of it. Returns those in the order given.
    private func upsert<Saved>(
        _ definitions: [JobDefinition], origin: JobOrigin, returning: JobsTable.UpsertReturning,
        read: (PostgresRow) throws -> (String, Saved)
    ) throws -> [Saved] {
        guard !definitions.isEmpty else { return [] }
        return try pool.withTransaction { tx in
            let now = try clock.now(on: tx)
            var writes: [JobWrite] = []
            writes.reserveCapacity(definitions.count)
            for (index, definition) in definitions.enumerated() {
                do {
                    writes.append(try write(definition, origin: origin, now: now, on: tx))
                } catch let error as JobDefinitionError where definitions.count > 1 {
                    throw JobDefinitionError("[\(index)] (job \"\(definition.id)\"): \(error.message)", at: [.index(index)] + error.path)
                }
            }
            var saved: [String: Saved] = [:]
            saved.reserveCapacity(definitions.count)
            // The write and the wake-up, when one is owed, in one round trip: the rows stay locked one trip less.
            let wake = writes.contains { $0.wakesSchedulers(now: now) }
                ? JobsTable.jobNotifyChanged : JobsTable.jobNotifyIfBuffered(ids: writes.map(\.id))
            let statements = [JobsTable.jobUpsertMany(writes, returning: returning), wake]
            for row in try tx.queries(statements)[0] {
                let (id, value) = try read(row)
                saved[id] = value
            }
            return definitions.map { saved[$0.id]! }
        }
    }

    /// The row `definition` becomes. A handler with write-only kwargs (a webhook's secret) may
    /// carry them over from the job it replaces, read under a lock so a concurrent replace cannot
    /// slip between the read and the write; by the id too, for two creates of a job that does not
    /// exist yet (no row to lock).
    private func write(_ definition: JobDefinition, origin: JobOrigin, now: Timestamp, on tx: PostgresConnection) throws -> JobWrite {
        var write = try JobWrite(definition, origin: origin, now: now)
        guard !definition.handler.writeOnlyKwargs.isEmpty else { return write }
        try tx.execute(JobsTable.jobIDLock(id: definition.id))
        let existing = try tx.query(JobsTable.jobKwargsForUpdate(id: definition.id)).first.map { row in
            (handler: try row.decode(String.self, column: "handler"), kwargs: try row.decode(JSONValue.self, column: "kwargs").objectValue ?? [:])
        }
        write.kwargs = .object(try WriteOnlyKwargs.carried(
            definition.kwargs, handler: definition.handler, jobID: definition.id, replacing: existing, kwargsPath: definition.kwargsPath))
        return write
    }

    /// How a default job was registered at boot.
    public enum Registration: String, Sendable {
        case created, unchanged, updated
        /// Its trigger changed, so its schedule started afresh.
        case rescheduled
    }

    /// Registers default jobs, each with its own outcome: a new id is created; an existing one
    /// gets the file's handler, kwargs, grace time and work policy, and its schedule (state, next run) is
    /// reset only if its trigger (`when`, `periodically`) changed. One transaction and a few
    /// statements for all of them; if that fails, each is tried alone so one bad job cannot
    /// keep the others out. Ids must be distinct.
    public func registerDefaults(_ definitions: [JobDefinition]) -> [Result<Registration, any Error>] {
        do {
            return try registerDefaultsTogether(definitions)
        } catch {
            return definitions.map { definition in
                Result { try registerDefaultsTogether([definition])[0].get() }
            }
        }
    }

    private func registerDefaultsTogether(_ definitions: [JobDefinition]) throws -> [Result<Registration, any Error>] {
        try pool.withTransaction { tx in
            let now = try clock.now(on: tx)
            let existing = Dictionary(
                try tx.query(JobsTable.jobSelectManyForUpdate(ids: definitions.map(\.id)))
                    .map { row in let job = try JobsTable.decode(row); return (job.id, job) },
                uniquingKeysWith: { first, _ in first })
            var results: [Result<Registration, any Error>] = []
            var writes: [JobWrite] = []
            var updates: [JobDefinition] = []
            for definition in definitions {
                let result = Result { () throws -> Registration in
                    guard let job = existing[definition.id] else {
                        writes.append(try JobWrite(definition, origin: .defaultJobs, now: now))
                        return .created
                    }
                    // A `when` without a year names the job it made in an earlier year too: not a change.
                    let sameWhen: Bool =
                        switch (definition.when, job.requestedWhen) {
                        case (nil, nil): true
                        case (let when?, let stored?): when.names(stored)
                        default: false
                        }
                    let controls = try definition.controls(now: now)
                    guard sameWhen && job.trigger.period == definition.periodically && job.trigger.cron == definition.cron
                        && job.controls == controls
                    else {
                        writes.append(try JobWrite(definition, origin: .defaultJobs, now: now))
                        return .rescheduled
                    }
                    guard job.handler == definition.handler.name && job.kwargs == definition.kwargs
                        && job.misfireGraceTime == definition.misfireGraceTime && job.policy == definition.policy
                        && job.origin == .defaultJobs
                    else {
                        updates.append(definition)
                        return .updated
                    }
                    return .unchanged
                }
                results.append(result)
            }
            if !writes.isEmpty {
                try tx.execute(JobsTable.jobUpsertMany(writes))
                try tx.execute(JobsTable.jobNotifyChanged)
            }
            if !updates.isEmpty {
                try tx.execute(JobsTable.jobUpdateDefinitionMany(updates))
            }
            return results
        }
    }

    // MARK: Reading jobs

    public func job(_ id: String) throws -> Job? {
        try pool.withConnection { connection in
            try connection.query(JobsTable.jobSelect(id: id)).first.map(JobsTable.decode)
        }
    }

    /// A job with the database's time and the service's state, read on one connection: what
    /// "why won't it run?" needs.
    public func jobInContext(_ id: String) throws -> (job: Job, now: Timestamp, service: ServiceState)? {
        try pool.withConnection { connection in
            guard let job = try connection.query(JobsTable.jobSelect(id: id)).first.map(JobsTable.decode) else { return nil }
            let service = try ServiceStateTable.decode(try connection.query(ServiceStateTable.serviceStateSelect)[0])
            return (job, try clock.now(on: connection), service)
        }
    }

    /// Which jobs `GET /jobs?job_type=` lists. None includes finished one-shots but `finished`.
    public enum Listing: String, Sendable, CaseIterable {
        /// Every job but finished one-shots.
        case all
        /// Failed-job records.
        case failed
        /// Jobs defined through the API (not default jobs, not failure records).
        case user
        /// One-shots that have fired.
        case finished
    }

    /// Every job of `listing`, in `job_id` order.
    public func jobs(_ listing: Listing) throws -> [Job] {
        try jobPage(JobQuery(listing: listing, limit: Int(Int32.max)), recentSlots: 0).jobs
    }

    // MARK: Changing jobs

    /// Pauses (clears `next_run_time`) or resumes (next slot at or after now, no replay) a job.
    /// Nil when there is no such job. A finished one-shot cannot be resumed; post it again.
    public func setState(of id: String, to state: JobState) throws -> Job? {
        try pool.withTransaction { tx in
            guard let row = try tx.query(JobsTable.jobSelectForUpdate(id: id, clock: clock)).first else { return nil }
            let job = try JobsTable.decode(row)
            guard job.state != state else { return job }
            guard job.state != .finished else {
                let why = job.trigger.period == nil && job.trigger.cron == nil ? "it was a one-shot" : "its schedule has no run left: its end_date passed or it fired its max_runs"
                throw JobConflictError("job \"\(id)\" has finished (\(why)); post it again to run it again")
            }
            let now = try row.decode(Timestamp.self, column: "now")
            let next = state == .running ? Firing.resumedRunTime(schedule: job.schedule, now: now) : nil
            let changed = try tx.query(JobsTable.jobSetState(id: id, state: state, nextRunTime: next))[0]
            try tx.execute(JobsTable.jobNotifyChanged)
            return try JobsTable.decode(changed)
        }
    }

    /// Deletes the job and its runs; false when there was none. Flows it posted stay.
    public func delete(_ id: String) throws -> Bool {
        try pool.withTransaction { tx in
            let removed = try tx.execute(JobsTable.jobDelete(id: id))
            if removed > 0 { try tx.execute(JobsTable.jobNotifyChanged) }
            return removed > 0
        }
    }

    /// Deletes every failed-job record; returns their ids.
    public func cleanFailed() throws -> [String] {
        try pool.withConnection { connection in
            try connection.query(FailureRecords.failureRecordDeleteAll).map { try $0.decode(String.self, column: "job_id") }.sorted()
        }
    }

    // MARK: Runs

    /// A page of the job's runs, newest scheduled time first, each with its flows by state, and
    /// how many runs there are in all.
    public func runs(of jobID: String, limit: Int, offset: Int) throws -> (runs: [Run], total: Int) {
        try pool.withConnection { connection in
            let answers = try connection.queries([RunsTable.runPage(jobID: jobID, limit: limit, offset: offset), RunsTable.runCount(jobID: jobID)])
            let runs = try runsWithTheirWork(answers[0].map(RunsTable.decode), of: jobID, on: connection)
            return (runs, try answers[1][0].decode(Int.self, column: "n"))
        }
    }

    /// A job and its newest `recentRuns` runs, on one connection: what `GET /jobs/{id}` shows.
    public func jobWithRecentRuns(_ id: String, recentRuns: Int) throws -> (job: Job, runs: [Run])? {
        try pool.withConnection { connection in
            // One round trip for the job and its runs; a second only for runs with flows or deliveries.
            let answers = try connection.queries([JobsTable.jobSelect(id: id), RunsTable.runPage(jobID: id, limit: recentRuns, offset: 0)])
            guard let job = try answers[0].first.map(JobsTable.decode) else { return nil }
            return (job, try runsWithTheirWork(answers[1].map(RunsTable.decode), of: id, on: connection))
        }
    }

    /// `runs` of `jobID`, each with its flows by state or its delivery.
    private func runsWithTheirWork(_ runs: [Run], of jobID: String, on connection: PostgresConnection) throws -> [Run] {
        var runs = runs
        let withFlows = runs.filter { $0.flowsPosted > 0 }.map(\.scheduledFor)
        if !withFlows.isEmpty {
            var counts: [Timestamp: [FlowState: Int]] = [:]
            for row in try connection.query(RunsTable.runFlowCounts(jobID: jobID, slots: withFlows)) {
                counts[try row.decode(Timestamp.self, column: "scheduled_for"), default: [:]][try row.decode(FlowState.self, column: "state")] =
                    try row.decode(Int.self, column: "n")
            }
            for index in runs.indices { runs[index].flows = counts[runs[index].scheduledFor] ?? [:] }
        }
        let withoutFlows = runs.filter { $0.flowsPosted == 0 && $0.status != .missed }.map(\.id)
        if !withoutFlows.isEmpty {
            var deliveries: [Int64: JSONObject] = [:]
            for row in try connection.query(DeliveriesTable.deliveriesOf(runIDs: withoutFlows)) {
                deliveries[try row.decode(Int64.self, column: "run_id")] = [
                    "state": .string(try row.decode(DeliveryState.self, column: "state").rawValue),
                    "attempts_made": .int(try row.decode(Int64.self, column: "attempt")),
                    "max_attempts": .int(try row.decode(Int64.self, column: "max_attempts")),
                    "next_attempt_at": try row.decode(Timestamp?.self, column: "due_at").map { .string($0.iso8601) } ?? .null,
                    "attempts": try row.decode(JSONValue.self, column: "attempts"),
                ]
            }
            for index in runs.indices { runs[index].delivery = deliveries[runs[index].id] }
        }
        return runs
    }

    /// How long the oldest due job has waited to be fired, in microseconds: 0 when none is due
    /// or the service is paused (nothing is owed then). Waits at most `timeout` for a connection.
    public func overdue(timeout: Duration) throws -> Int64 {
        let row = try pool.withConnection(timeout: timeout) { connection in
            try connection.query(JobsTable.jobOldestDue(clock: clock))[0]
        }
        guard try row.decode(ServiceState.self, column: "service") == .running,
            let oldest = try row.decode(Timestamp?.self, column: "oldest")
        else { return 0 }
        return max(0, try row.decode(Timestamp.self, column: "now") - oldest)
    }

    // MARK: The service

    /// The judging time: the database's clock unless a test gave one.
    public func now() throws -> Timestamp {
        try pool.withConnection { connection in try clock.now(on: connection) }
    }

    public func serviceState() throws -> ServiceState {
        try pool.withConnection { connection in
            try ServiceStateTable.decode(try connection.query(ServiceStateTable.serviceStateSelect)[0])
        }
    }

    /// Pauses or resumes all firing. Jobs keep their `next_run_time`, so on resume the misfire
    /// rules decide what the pause cost.
    public func setServiceState(_ state: ServiceState) throws {
        try pool.withTransaction { tx in
            try tx.execute(ServiceStateTable.serviceStateUpdate(state))
            try tx.execute(JobsTable.jobNotifyChanged)
        }
    }
}
