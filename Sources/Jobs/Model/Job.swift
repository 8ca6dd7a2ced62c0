import Chronology
import JSON
import Scheduling

/// A job as stored: what to run (a handler and its kwargs), when (a trigger), and where its
/// schedule stands.
public struct Job: Sendable, Equatable {
    public var id: String
    /// The handler's fabric8 name, such as `FlowScheduling`.
    public var handler: String
    public var kwargs: JSONObject
    public var trigger: Trigger
    /// The `when` as the client gave it; nil when absent. Default jobs compare it at boot.
    public var requestedWhen: Timestamp?
    public var misfireGraceTime: Period?
    public var state: JobState
    /// Nil unless the job is running.
    public var nextRunTime: Timestamp?
    public var origin: JobOrigin
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var policy = WorkPolicy()
    /// `start_date`, `end_date`, `max_runs` and `jitter`.
    public var controls = ScheduleControls()
    /// Firings its schedule carried out (not misses, skips, manual runs or backfills), for `max_runs`.
    public var runsFired: Int64 = 0
    /// The status of its latest run (by scheduled time); nil before it has one, and not read
    /// where the job is read to fire it.
    public var lastStatus: RunStatus?

    /// Its run times: the trigger's slots inside its bounds, moved by its jitter.
    public var schedule: Schedule { Schedule(trigger: trigger, controls: controls, jitterKey: Schedule.jitterKey(of: id)) }

    /// The shape clients see (``writeMembers(into:)``) as a value.
    public var json: JSONValue { .object(jsonObject) }
}

extension Job: JSONObjectRepresentable {
    /// The shape clients see, fabric8's: `periodically` is `false` for a one-shot, else the
    /// interval as `timedelta` prints it.
    public func writeMembers(into members: inout some JSONMemberSink) {
        members.member("job_id", id)
        members.member("handler", handler)
        members.member("kwargs", .object(WriteOnlyKwargs.redacted(kwargs)))
        members.member("state", state.rawValue)
        members.member("when", trigger.start.iso8601)
        members.member("periodically", trigger.period.map { .string($0.description) } ?? false)
        members.member("cron", trigger.cron?.expression.text)
        members.member("timezone", trigger.cron?.zone.name)
        members.member("description", ScheduleDescription.of(trigger))
        members.member("start_date", controls.startDate?.iso8601)
        members.member("end_date", controls.endDate?.iso8601)
        members.member("max_runs", controls.maxRuns.map(Int64.init))
        members.member("jitter", controls.jitter?.description)
        members.member("runs_fired", runsFired)
        members.member("misfire_grace_time", misfireGraceTime?.description)
        members.member("next_run_time", nextRunTime?.iso8601)
        members.member("origin", origin.rawValue)
        members.member("created_at", createdAt.iso8601)
        members.member("updated_at", updatedAt.iso8601)
        policy.writeMembers(into: &members)
        members.member("last_status", lastStatus?.rawValue)
    }
}

public enum JobState: String, Sendable, CaseIterable {
    case running, paused
    /// A one-shot that has fired: out of the active list, its runs still readable.
    case finished
}

/// Where a job came from; `GET /jobs?job_type=user` lists the API's.
public enum JobOrigin: String, Sendable, CaseIterable {
    case api
    case defaultJobs = "default_jobs"
    /// A failed-job record (handler `ErrorHandler`).
    case failure
}

/// Whether the whole service fires jobs; persisted, so a pause survives restarts.
public enum ServiceState: String, Sendable, CaseIterable {
    case running, paused
}
