import Chronology
import HTTPServer
import Jobs
import JSON
import Scheduling

/// What a schedule would do, asked before or after it is a job: `POST /schedules/preview` and
/// `GET /jobs/{job_id}/schedule` ("why didn't it run?").
struct ScheduleRoutes {
    let store: JobStore
    let firer: JobFirer
    /// A backfill may expand filters, as a manual run does: it takes the same bounded share.
    let share: ConnectionShare

    static let defaultCount = 10
    static let counts = 1...1000
    static let previewFields = ["cron", "timezone", "periodically", "when", "after", "count"]

    func add(to router: inout Router) {
        router.add(.post, KairosAPI.basePath + "/schedules/preview", query: [], answeringDomainErrors(preview))
        router.add(.get, KairosAPI.basePath + "/jobs/{job_id}/schedule", query: ["count"], answeringDomainErrors(jobSchedule))
        router.add(.post, KairosAPI.basePath + "/jobs/{job_id}/backfill", query: [], answeringDomainErrors(backfill))
        router.add(.get, KairosAPI.basePath + "/schedules/upcoming", query: ["hours", "limit", "per_job"], answeringDomainErrors(upcoming))
    }

    static let upcomingHours = 1...168
    static let upcomingLimits = 1...1000

    /// `GET /schedules/upcoming?hours=24&limit=200&per_job=` → `{"now", "service_state",
    /// "firings": [{"job_id", "at"}], "truncated", "capped"}`: the firings of running jobs from
    /// now through `hours` ahead (at most 7 days), earliest first, at most `per_job` of each job
    /// (`capped` lists the jobs that have more), so a job firing every second cannot crowd out
    /// the rest. A firing before `now` is overdue (the service is paused, or firing is behind).
    /// `truncated` says more lie in the window than `limit`.
    func upcoming(_ request: HTTPRequest) throws -> HTTPResponse {
        let hours = try request.integer("hours", fallback: 24, range: Self.upcomingHours)
        let limit = try request.integer("limit", fallback: 200, range: Self.upcomingLimits)
        let perJob = try request.integer("per_job", fallback: limit, range: Self.upcomingLimits)
        let upcoming = try store.upcoming(within: .seconds(Int64(hours) * 3600), limit: limit, perJob: perJob)
        return .json([
            "now": .string(upcoming.now.iso8601), "service_state": .string(upcoming.service.rawValue),
            "firings": .array(upcoming.firings.map { ["job_id": .string($0.jobID), "at": .string($0.at.iso8601)] }),
            "truncated": .bool(upcoming.truncated), "capped": .array(upcoming.capped.map(JSONValue.string)),
        ])
    }

    /// `POST /schedules/preview` → `{"times": [...], "description": ..., "timezone": ...}`.
    func preview(_ request: HTTPRequest) throws -> HTTPResponse {
        let fields = try BodyFields(try request.jsonObjectBody(), known: Self.previewFields)
        let count = try fields.integer("count", fallback: Self.defaultCount, range: Self.counts)
        let now = try store.now()
        let after = try Self.instant("after", in: fields, now: now) ?? now
        let trigger = try Self.trigger(from: fields, now: now, after: after)
        return .json(.object(Self.answer(trigger, description: ScheduleDescription.of(trigger), zone: trigger.cron?.zone.name, after: after, count: count)))
    }

    /// `GET /jobs/{job_id}/schedule?count=N` → the preview of the job's own schedule from now,
    /// and `blocked_by`: every reason it would not fire (empty when it will).
    func jobSchedule(_ request: HTTPRequest) throws -> HTTPResponse {
        let count = try request.integer("count", fallback: Self.defaultCount, range: Self.counts)
        let id = request.parameter("job_id")
        guard let (job, now, service) = try store.jobInContext(id) else { throw JobRoutes.noSuchJob(id) }
        // A finished job has no times to come; any other shows those its schedule has.
        let after = job.nextRunTime.map { $0 - 1 } ?? now
        var answer = Self.answer(job.schedule, description: ScheduleDescription.of(job.trigger), zone: job.trigger.cron?.zone.name, after: job.state == .finished ? JobDefinition.latestWhen : after, count: count)
        answer["job_id"] = .string(job.id)
        answer["state"] = .string(job.state.rawValue)
        answer["next_run_time"] = job.nextRunTime.map { .string($0.iso8601) } ?? .null
        let blocks = Self.blocks(job: job, service: service, now: now, hasTimes: !(answer["times"]?.arrayValue?.isEmpty ?? true))
        answer["blocked_by"] = .array(blocks.map { .object(["reason": .string($0.reason), "message": .string($0.message)]) })
        return .json(.object(answer))
    }

    /// `POST /jobs/{job_id}/backfill` `{"from", "to", "dry_run"}` → the slots in `[from, to)`,
    /// each with `has_run`, and for those this call fired, `outcome`.
    func backfill(_ request: HTTPRequest) throws -> HTTPResponse {
        let fields = try BodyFields(try request.jsonObjectBody(), known: ["from", "to", "dry_run"])
        let now = try store.now()
        guard let from = try Self.instant("from", in: fields, now: now) else { throw HTTPError(.badRequest, "'from' is required") }
        guard let to = try Self.instant("to", in: fields, now: now) else { throw HTTPError(.badRequest, "'to' is required") }
        guard from < to else { throw HTTPError(.badRequest, "'to' (\(to.iso8601)) must be after 'from' (\(from.iso8601)): the range is [from, to)") }
        let dryRun = try fields.bool("dry_run", fallback: false)
        let id = request.parameter("job_id")
        guard let backfill = try share.run({ try firer.backfill(id, from: from, to: to, dryRun: dryRun) }) else { throw JobRoutes.noSuchJob(id) }
        let slots: [JSONValue] = backfill.slots.map { slot in
            [
                "scheduled_for": .string(slot.scheduledFor.iso8601), "has_run": .bool(slot.existingStatus != nil),
                "status": slot.existingStatus.map { .string($0.rawValue) } ?? .null,
                "outcome": slot.outcome.map { .string($0.rawValue) } ?? .null,
            ]
        }
        return .json([
            "job_id": .string(id), "dry_run": .bool(dryRun), "slots": .array(slots),
            "fired": .int(Int64(backfill.slots.filter { $0.outcome != nil }.count)),
        ])
    }

    // MARK: Pure parts

    /// Why `job` would not fire, most fundamental first.
    static func blocks(job: Job, service: ServiceState, now: Timestamp, hasTimes: Bool) -> [(reason: String, message: String)] {
        var blocks: [(String, String)] = []
        switch job.state {
        case .finished:
            if let maxRuns = job.controls.maxRuns, job.runsFired >= maxRuns {
                blocks.append(("max_runs_reached", "the job has fired its max_runs (\(maxRuns)) times; post it again with a higher 'max_runs' to go on"))
            } else if let end = job.controls.endDate, end <= now {
                blocks.append(("end_date_passed", "the job's end_date (\(end.iso8601)) has passed; post it again with a later 'end_date' to go on"))
            } else {
                blocks.append(("finished", "the job has finished: it has no run times left; post it again to schedule it anew"))
            }
        case .paused:
            blocks.append(("job_paused", "the job is paused; PUT /api/v1/jobs/\(job.id)?state=running resumes it (missed times are not replayed)"))
        case .running:
            if !hasTimes {
                blocks.append(("no_more_times", "the schedule has no run time left before 9999-12-31T23:59:59Z"))
            }
        }
        if service == .paused {
            blocks.append(("service_paused", "firing is paused for the whole service; PUT /api/v1/service/state?state=running resumes it"))
        }
        return blocks
    }

    static func answer(_ slots: some SlotSequence, description: String, zone: String?, after: Timestamp, count: Int) -> JSONObject {
        [
            "times": .array(slots.slots(after: after, count: count, through: JobDefinition.latestWhen).map { .string($0.iso8601) }),
            "description": .string(description),
            "timezone": .string(zone ?? "UTC"),
        ]
    }

    /// The schedule the fields describe: `cron` (with `timezone`), `periodically` (with an
    /// optional `when`, its start), or a `when` alone (one time). Errors name the field.
    static func trigger(from fields: BodyFields, now: Timestamp, after: Timestamp) throws(HTTPError) -> Trigger {
        let when = try instant("when", in: fields, now: now)
        if fields.has("cron") {
            if fields.has("periodically") { throw HTTPError(.badRequest, "give either 'periodically' or 'cron', not both") }
            let expression = try parsed("cron", in: fields, maximumLength: CronExpression.maximumLength) { (text) throws(SchedulingError) in
                try CronExpression(parsing: text)
            }
            let zone = try fields.has("timezone")
                ? parsed("timezone", in: fields) { (text) throws(SchedulingError) in try TimeZoneDatabase.system.rules(named: text) } : .utc
            // Without a `when`, a cron preview starts at `after`, which may be in the past: "what did it do then?".
            return .cron(CronSchedule(expression: expression, zone: zone), from: when ?? after)
        }
        if fields.has("timezone") {
            throw HTTPError(.badRequest, "'timezone' is the zone 'cron' is read in; give a 'cron' too, or leave it out")
        }
        if fields.has("periodically") {
            let period = try parsed("periodically", in: fields) { (text) throws(SchedulingError) in try Period(parsing: text) }
            guard !period.isZero else { throw HTTPError(.badRequest, "'periodically': the interval must be longer than 0 seconds") }
            return .every(period, from: when ?? now + period.microseconds)
        }
        guard let when else { throw HTTPError(.badRequest, "give a 'cron' (and 'timezone'), a 'periodically' (and 'when'), or a 'when'") }
        return .once(at: when)
    }

    /// A time field, as `when` is read for a job (ISO 8601, or fabric8's looser forms).
    static func instant(_ key: String, in fields: BodyFields, now: Timestamp) throws(HTTPError) -> Timestamp? {
        guard fields.has(key) else { return nil }
        let instant = try parsed(key, in: fields) { (text) throws(SchedulingError) in try LooseDate.parse(text, now: now) }
        guard instant >= JobDefinition.earliestWhen, instant <= JobDefinition.latestWhen else {
            throw HTTPError(.badRequest, "'\(key)': \(instant.iso8601) is outside the times Kairos schedules, years 1 to 9999 (UTC)")
        }
        return instant
    }

    private static func parsed<T>(
        _ key: String, in fields: BodyFields, maximumLength: Int = 200, _ parse: (String) throws(SchedulingError) -> T
    ) throws(HTTPError) -> T {
        let value = fields.object[key]!
        guard let text = value.stringOrNumberText else {
            throw HTTPError(.badRequest, "'\(key)' must be a string, not \(value.kindDescription)")
        }
        guard text.utf8.count <= maximumLength else {
            throw HTTPError(.badRequest, "'\(key)' is \(text.utf8.count) bytes long; at most \(maximumLength)")
        }
        do {
            return try parse(text)
        } catch {
            throw HTTPError(.badRequest, "'\(key)': \(error.message)")
        }
    }
}
