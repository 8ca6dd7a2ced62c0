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

    /// The shape clients see, fabric8's: `periodically` is `false` for a one-shot, else the
    /// interval as `timedelta` prints it.
    public var json: JSONValue {
        var object: JSONObject = [
            "job_id": .string(id),
            "handler": .string(handler),
            "kwargs": .object(WriteOnlyKwargs.redacted(kwargs)),
            "state": .string(state.rawValue),
            "when": .string(trigger.start.iso8601),
            "periodically": trigger.period.map { .string($0.description) } ?? false,
            "cron": trigger.cron.map { .string($0.expression.text) } ?? .null,
            "timezone": trigger.cron.map { .string($0.zone.name) } ?? .null,
            "description": .string(ScheduleDescription.of(trigger)),
            "start_date": controls.startDate.map { .string($0.iso8601) } ?? .null,
            "end_date": controls.endDate.map { .string($0.iso8601) } ?? .null,
            "max_runs": controls.maxRuns.map { .int(Int64($0)) } ?? .null,
            "jitter": controls.jitter.map { .string($0.description) } ?? .null,
            "runs_fired": .int(runsFired),
            "misfire_grace_time": misfireGraceTime.map { .string($0.description) } ?? .null,
            "next_run_time": nextRunTime.map { .string($0.iso8601) } ?? .null,
            "origin": .string(origin.rawValue),
            "created_at": .string(createdAt.iso8601),
            "updated_at": .string(updatedAt.iso8601),
        ]
        for (key, value) in policy.json { object[key] = value }
        object["last_status"] = lastStatus.map { .string($0.rawValue) } ?? .null
        return .object(object)
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
