import Chronology
import Postgres
import SQLBuilding

/// Where "now" comes from whenever it decides something about a job: whether a one-shot is in
/// the past, an interval's first slot, a resume's next slot, a manual run's slot, what is due
/// and how late. That is the database's clock, so replicas whose own clocks are skewed still
/// agree; or a test's clock, the one test double. The process clock is for logs and latencies.
public struct JobClock: Sendable {
    private let fixed: (@Sendable () -> Timestamp)?

    /// PostgreSQL's `clock_timestamp()`.
    public static let database = JobClock(fixed: nil)

    /// A test's clock: every decision is taken at what `now` returns when asked.
    public static func test(_ now: @escaping @Sendable () -> Timestamp) -> JobClock { JobClock(fixed: now) }

    /// The judging time, read on `connection` (inside the caller's transaction, if any).
    public func now(on connection: PostgresConnection) throws -> Timestamp {
        if let fixed { return fixed() }
        return try connection.query("SELECT clock_timestamp() AS now")[0].decode(Timestamp.self, column: "now")
    }

    /// "Now" for a statement that judges in SQL: the test's time as a parameter, or the
    /// database's `clock_timestamp()`. Read once per statement, so one statement has one now.
    var sqlNow: SQL {
        guard let fixed else { return "clock_timestamp()" }
        return "\(fixed())::timestamptz"
    }
}
