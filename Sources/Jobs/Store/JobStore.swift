import Chronology
import JSON
import Postgres
import SQLBuilding
import Scheduling

/// Jobs, their runs and the service state in PostgreSQL. Every change that can move a
/// `next_run_time` sends a NOTIFY on ``changesChannel`` in its transaction, so every scheduler on
/// the database wakes when it commits.
///
/// Methods block the calling thread on the pool; call them from worker threads.
public struct JobStore: Sendable {
    public static let changesChannel = "kairos_jobs"

    public let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    // MARK: Defining jobs

    /// Creates the job, or replaces the one with the same id (fabric8's `replace_existing`);
    /// the schedule starts afresh from `now`. Returns the job and whether it is new.
    /// - Throws: ``JobDefinitionError`` for a one-shot in the past.
    public func save(_ definition: JobDefinition, origin: JobOrigin, now: Timestamp) throws -> (job: Job, created: Bool) {
        let write = try JobWrite(definition, origin: origin, now: now)
        return try pool.withTransaction { tx in
            let row = try tx.query(Self.jobUpsert([write]))[0]
            try Self.notifyChanged(tx)
            return (try Rows.job(row), try row.decode(Bool.self, column: "created"))
        }
    }

    /// How a default job was registered at boot.
    public enum Registration: String, Sendable {
        case created, unchanged, updated
        /// Its trigger changed, so its schedule started afresh.
        case rescheduled
    }

    /// Registers default jobs, each with its own outcome: a new id is created; an existing one
    /// gets the file's handler, kwargs and grace time, and its schedule (state, next run) is
    /// reset only if its trigger (`when`, `periodically`) changed. One transaction and a few
    /// statements for all of them; if that fails, each is tried alone so one bad job cannot
    /// keep the others out. Ids must be distinct.
    public func registerDefaults(_ definitions: [JobDefinition], now: Timestamp) -> [Result<Registration, any Error>] {
        do {
            return try registerDefaultsTogether(definitions, now: now)
        } catch {
            return definitions.map { definition in
                Result { try registerDefaultsTogether([definition], now: now)[0].get() }
            }
        }
    }

    private func registerDefaultsTogether(_ definitions: [JobDefinition], now: Timestamp) throws -> [Result<Registration, any Error>] {
        try pool.withTransaction { tx in
            let existing = Dictionary(
                try tx.query("SELECT \(Rows.jobColumns) FROM jobs WHERE job_id = ANY(\(definitions.map(\.id))) FOR UPDATE")
                    .map { row in let job = try Rows.job(row); return (job.id, job) },
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
                    guard job.requestedWhen == definition.when && job.trigger.period == definition.periodically else {
                        writes.append(try JobWrite(definition, origin: .defaultJobs, now: now))
                        return .rescheduled
                    }
                    guard job.handler == definition.handler.name && job.kwargs == definition.kwargs
                        && job.misfireGraceTime == definition.misfireGraceTime && job.origin == .defaultJobs
                    else {
                        updates.append(definition)
                        return .updated
                    }
                    return .unchanged
                }
                results.append(result)
            }
            if !writes.isEmpty {
                try tx.execute(Self.jobUpsert(writes))
                try Self.notifyChanged(tx)
            }
            if !updates.isEmpty {
                try tx.execute("""
                    UPDATE jobs SET handler = u.handler, kwargs = u.kwargs, misfire_grace_us = u.misfire_grace_us,
                        origin = 'default_jobs', updated_at = clock_timestamp()
                    FROM unnest(\(updates.map(\.id)), \(updates.map(\.handler.name)), \(updates.map { JSONValue.object($0.kwargs) }),
                                \(updates.map(\.misfireGraceTime?.microseconds))) AS u(job_id, handler, kwargs, misfire_grace_us)
                    WHERE jobs.job_id = u.job_id
                    """)
            }
            return results
        }
    }

    /// Inserts or replaces jobs, many in one statement.
    private static func jobUpsert(_ writes: [JobWrite]) -> SQL {
        """
        INSERT INTO jobs (job_id, handler, kwargs, requested_when, start_at, interval_us, misfire_grace_us, state,
                          next_run_time, origin)
        SELECT * FROM unnest(\(writes.map(\.id)), \(writes.map(\.handler)), \(writes.map(\.kwargs)), \(writes.map(\.requestedWhen)),
                             \(writes.map(\.trigger.start)), \(writes.map(\.trigger.period?.microseconds)),
                             \(writes.map(\.misfireGraceTime?.microseconds)), \(writes.map(\.state.rawValue)),
                             \(writes.map(\.nextRunTime)), \(writes.map(\.origin.rawValue)))
        ON CONFLICT (job_id) DO UPDATE SET
            handler = excluded.handler, kwargs = excluded.kwargs, requested_when = excluded.requested_when,
            start_at = excluded.start_at, interval_us = excluded.interval_us,
            misfire_grace_us = excluded.misfire_grace_us, state = excluded.state,
            next_run_time = excluded.next_run_time, origin = excluded.origin, updated_at = clock_timestamp()
        RETURNING \(Rows.jobColumns), (xmax = 0) AS created
        """
    }

    // MARK: Reading jobs

    public func job(_ id: String) throws -> Job? {
        try pool.withConnection { connection in
            try connection.query("SELECT \(Rows.jobColumns) FROM jobs WHERE job_id = \(id)").first.map(Rows.job)
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

    public func jobs(_ listing: Listing) throws -> [Job] {
        let condition: SQL =
            switch listing {
            case .all: "state <> 'finished'"
            case .failed: "origin = 'failure'"
            case .user: "origin = 'api' AND state <> 'finished'"
            case .finished: "state = 'finished'"
            }
        return try pool.withConnection { connection in
            try connection.query("SELECT \(Rows.jobColumns) FROM jobs WHERE \(condition) ORDER BY created_at, job_id").map(Rows.job)
        }
    }

    // MARK: Changing jobs

    /// Pauses (clears `next_run_time`) or resumes (next slot at or after `now`, no replay) a job.
    /// Nil when there is no such job. A finished one-shot cannot be resumed; post it again.
    public func setState(of id: String, to state: JobState, now: Timestamp) throws -> Job? {
        try pool.withTransaction { tx in
            guard var job = try tx.query("SELECT \(Rows.jobColumns) FROM jobs WHERE job_id = \(id) FOR UPDATE").first.map(Rows.job)
            else { return nil }
            guard job.state != state else { return job }
            guard job.state != .finished else {
                throw JobConflictError("job \"\(id)\" has finished (it was a one-shot); post it again to run it again")
            }
            job.nextRunTime = state == .running ? Firing.resumedRunTime(trigger: job.trigger, now: now) : nil
            let row = try tx.query("""
                UPDATE jobs SET state = \(state.rawValue), next_run_time = \(job.nextRunTime), updated_at = clock_timestamp()
                WHERE job_id = \(id) RETURNING \(Rows.jobColumns)
                """)[0]
            try Self.notifyChanged(tx)
            return try Rows.job(row)
        }
    }

    /// Deletes the job and its runs; false when there was none. Flows it posted stay.
    public func delete(_ id: String) throws -> Bool {
        try pool.withTransaction { tx in
            let removed = try tx.execute("DELETE FROM jobs WHERE job_id = \(id)")
            if removed > 0 { try Self.notifyChanged(tx) }
            return removed > 0
        }
    }

    /// Deletes every failed-job record; returns their ids.
    public func cleanFailed() throws -> [String] {
        try pool.withConnection { connection in
            try connection.query("DELETE FROM jobs WHERE origin = 'failure' RETURNING job_id")
                .map { try $0.decode(String.self, column: "job_id") }.sorted()
        }
    }

    // MARK: Runs

    /// A page of the job's runs, newest scheduled time first, and how many there are in all.
    public func runs(of jobID: String, limit: Int, offset: Int) throws -> (runs: [Run], total: Int) {
        try pool.withConnection { connection in
            let runs = try connection.query("""
                SELECT \(Rows.runColumns) FROM runs WHERE job_id = \(jobID)
                ORDER BY scheduled_for DESC, id DESC LIMIT \(limit) OFFSET \(offset)
                """).map(Rows.run)
            let total = try connection.query("SELECT count(*) AS n FROM runs WHERE job_id = \(jobID)")[0].decode(Int.self, column: "n")
            return (runs, total)
        }
    }

    // MARK: The service

    public enum ServiceState: String, Sendable, CaseIterable {
        case running, paused
    }

    public func serviceState() throws -> ServiceState {
        try pool.withConnection { connection in
            ServiceState(rawValue: try connection.query("SELECT state FROM service_state")[0].decode(String.self, column: "state"))
                ?? .running
        }
    }

    /// Pauses or resumes all firing. Jobs keep their `next_run_time`, so on resume the misfire
    /// rules decide what the pause cost.
    public func setServiceState(_ state: ServiceState) throws {
        try pool.withTransaction { tx in
            try tx.execute("UPDATE service_state SET state = \(state.rawValue), updated_at = clock_timestamp()")
            try Self.notifyChanged(tx)
        }
    }

    static func notifyChanged(_ connection: PostgresConnection) throws {
        try connection.execute("SELECT pg_notify(\(changesChannel), '')")
    }
}
