import Chronology
import Foundation
import JSON
import Scheduling

/// A job as a client defines it (a `POST /jobs` body, the query of `POST /jobs/<handler>`, or a
/// default-job file), checked: the handler exists and has read the kwargs into its ``work``,
/// the durations and the date parse. Nothing here reads a clock: what depends on "now" (a
/// one-shot in the past, an interval's first slot, the year of a date given without one) is
/// judged when the job is written, by the store's ``JobClock``.
public struct JobDefinition: Sendable {
    public var id: String
    public var handler: any JobHandler
    /// As given, for storing and showing.
    public var kwargs: JSONObject
    /// Where the kwargs were in the job's document (`["kwargs"]`, or `[]` beside `job_id`), for errors.
    public var kwargsPath: JSONPath
    /// The kwargs as the handler read them: their check when the job is defined. Storage keeps
    /// ``kwargs``; a firing reads them back with the same ``JobHandler/work(from:)``.
    public var work: any JobWork
    public var when: LooseDate?
    public var periodically: Period?
    /// A cron schedule and the zone it is read in; nil for a one-shot or an interval.
    public var cron: CronSchedule?
    public var misfireGraceTime: Period?
    public var state: JobState
    /// `priority`, `max_attempts`, `retry_delay` and `overlap`; the handler's defaults for those not given.
    public var policy: WorkPolicy
    public var startDate: LooseDate?
    public var endDate: LooseDate?
    public var maxRuns: Int?
    public var jitter: Period?

    /// The longest `job_id` accepted, in bytes.
    public static let maximumIDLength = 200
    /// The keys a job has beside `handler` and `kwargs`, which the query of `POST /jobs/<handler>` may give too.
    public static let scheduleKeys = [
        "job_id", "when", "periodically", "cron", "timezone", "misfire_grace_time", "state", "priority", "max_attempts", "retry_delay",
        "overlap", "start_date", "end_date", "max_runs", "jitter",
    ]
    static let keys = ["job_id", "handler", "kwargs"] + scheduleKeys.dropFirst()

    /// Reads a definition from `object` (JSON body or YAML file).
    ///
    /// - Parameter kwargsAtTopLevel: fabric8's default-job files put the handler's kwargs beside
    ///   `job_id`; when true, keys that are not job keys are kwargs.
    /// - Throws: ``JobDefinitionError`` naming the field, with its path in `object`.
    public static func parse(
        _ object: JSONObject, handlers: HandlerRegistry, kwargsAtTopLevel: Bool = false
    ) throws(JobDefinitionError) -> JobDefinition {
        var kwargs = JSONObject()
        for (key, value) in object where !keys.contains(key) {
            guard kwargsAtTopLevel else {
                throw JobDefinitionError(
                    "unknown key \"\(key)\"; a job has \(keys.map { "\"\($0)\"" }.joined(separator: ", "))", at: [.key(key)])
            }
            kwargs[key] = value
        }
        guard let handlerName = object["handler"] else { throw JobDefinitionError("'handler' is required; one of \(handlers.namesForMessages)") }
        guard let handlerName = handlerName.stringValue else {
            throw JobDefinitionError("'handler' must be a string, not \(handlerName.kindDescription)", at: [.key("handler")])
        }
        let handler = try handlers.handler(named: handlerName)
        var kwargsPath: JSONPath = []
        if let given = object["kwargs"], !given.isNull {
            guard let given = given.objectValue else {
                throw JobDefinitionError("'kwargs' must be an object, not \(given.kindDescription)", at: [.key("kwargs")])
            }
            guard kwargs.isEmpty else {
                throw JobDefinitionError("give the handler's kwargs either in 'kwargs' or beside 'job_id', not both", at: [.key("kwargs")])
            }
            kwargs = given
            kwargsPath = [.key("kwargs")]
        }
        return try JobDefinition(
            id: jobID(object["job_id"], handlers: handlers), handler: handler, kwargs: kwargs, kwargsPath: kwargsPath, fields: object)
    }

    /// A definition whose schedule fields come as strings (the query string of
    /// `POST /jobs/<handler>`) and whose kwargs are given whole.
    public init(handler: any JobHandler, kwargs: JSONObject, fields: JSONObject, handlers: HandlerRegistry) throws(JobDefinitionError) {
        try self.init(
            id: Self.jobID(fields["job_id"], handlers: handlers), handler: handler, kwargs: kwargs, kwargsPath: [], fields: fields)
    }

    private init(
        id: String, handler: any JobHandler, kwargs: JSONObject, kwargsPath: JSONPath, fields: JSONObject
    ) throws(JobDefinitionError) {
        do {
            work = try handler.work(from: kwargs)
        } catch {
            throw JobDefinitionError("'kwargs' for \(handler.name): \(error.message)", at: kwargsPath + error.path)
        }
        self.id = id
        self.handler = handler
        self.kwargs = kwargs
        self.kwargsPath = kwargsPath
        when = try Self.field("when", in: fields) { (text) throws(SchedulingError) in try LooseDate(parsing: text) }
        periodically = try Self.field("periodically", in: fields) { (text) throws(SchedulingError) in try Period(parsing: text) }
        cron = try Self.cronSchedule(in: fields)
        if cron != nil, periodically != nil {
            throw JobDefinitionError("give a job either 'periodically' or 'cron', not both", at: [.key("cron")])
        }
        misfireGraceTime = try Self.field("misfire_grace_time", in: fields) { (text) throws(SchedulingError) in try Period(parsing: text) }
        state = try Self.field("state", in: fields) { (text) throws(SchedulingError) in
            guard let state = JobState(rawValue: text), state != .finished else {
                throw SchedulingError("\"\(text)\" is not a job state; use \"running\" or \"paused\"")
            }
            return state
        } ?? .running
        if !handler.postsFlows, let key = ["priority", "max_attempts", "retry_delay"].first(where: { fields[$0].map { !$0.isNull } ?? false }) {
            throw JobDefinitionError(
                "'\(key)' is for the flows a job posts, and \(handler.name) posts none; \(key == "priority" ? "leave it out" : "give it in 'kwargs', for the handler's calls")",
                at: [.key(key)])
        }
        policy = try Self.policy(in: fields, defaultOverlap: handler.defaultOverlap)
        startDate = try Self.field("start_date", in: fields) { (text) throws(SchedulingError) in try LooseDate(parsing: text) }
        endDate = try Self.field("end_date", in: fields) { (text) throws(SchedulingError) in try LooseDate(parsing: text) }
        maxRuns = try Self.field("max_runs", in: fields) { (text) throws(SchedulingError) in
            guard let number = Int(text), ScheduleControls.maxRunsRange.contains(number) else {
                throw SchedulingError("must be a whole number from 1 to \(ScheduleControls.maxRunsRange.upperBound), not \(text)")
            }
            return number
        }
        jitter = try Self.field("jitter", in: fields) { (text) throws(SchedulingError) in
            let jitter = try Period(parsing: text)
            guard jitter <= ScheduleControls.longestJitter else {
                throw SchedulingError("\(jitter) is longer than the longest jitter, \(ScheduleControls.longestJitter)")
            }
            return jitter
        }
        if cron == nil, periodically == nil, let key = ["start_date", "end_date", "max_runs"].first(where: { fields[$0].map { !$0.isNull } ?? false }) {
            throw JobDefinitionError("'\(key)' bounds a periodic or cron schedule; a one-shot runs once, at 'when'", at: [.key(key)])
        }
    }

    /// `start_date`, `end_date`, `max_runs` and `jitter`, judged at `now` (which gives a date
    /// without a year its year).
    /// - Throws: ``JobDefinitionError`` naming the field for a date outside years 1 to 9999, or
    ///   an `end_date` before the `start_date`.
    public func controls(now: Timestamp) throws(JobDefinitionError) -> ScheduleControls {
        func instant(_ date: LooseDate?, _ key: String) throws(JobDefinitionError) -> Timestamp? {
            guard let date else { return nil }
            let instant: Timestamp
            do { instant = try date.timestamp(now: now) } catch { throw JobDefinitionError("'\(key)': \(error.message)", at: [.key(key)]) }
            guard instant <= Self.latestWhen, instant >= Self.earliestWhen else {
                throw JobDefinitionError("'\(key)': \(instant.iso8601) is outside the times Kairos schedules, years 1 to 9999 (UTC)", at: [.key(key)])
            }
            return instant
        }
        let controls = ScheduleControls(
            startDate: try instant(startDate, "start_date"), endDate: try instant(endDate, "end_date"), maxRuns: maxRuns, jitter: jitter)
        if let start = controls.startDate, let end = controls.endDate, end < start {
            throw JobDefinitionError("'end_date' (\(end.iso8601)) is before 'start_date' (\(start.iso8601)): the job could never run", at: [.key("end_date")])
        }
        return controls
    }

    /// `cron` read in `timezone` (default UTC); a `timezone` without a `cron` is an error, not ignored.
    private static func cronSchedule(in fields: JSONObject) throws(JobDefinitionError) -> CronSchedule? {
        let zone = try field("timezone", in: fields) { (text) throws(SchedulingError) in try TimeZoneDatabase.system.rules(named: text) }
        guard let expression = try field("cron", in: fields, { (text) throws(SchedulingError) in try CronExpression(parsing: text) }) else {
            if zone != nil { throw JobDefinitionError("'timezone' is the zone 'cron' is read in; give a 'cron' too, or leave it out", at: [.key("timezone")]) }
            return nil
        }
        return CronSchedule(expression: expression, zone: zone ?? .utc)
    }

    private static func policy(in fields: JSONObject, defaultOverlap: OverlapPolicy) throws(JobDefinitionError) -> WorkPolicy {
        var policy = WorkPolicy(overlap: defaultOverlap)
        if let priority = try field("priority", in: fields, { (text) throws(SchedulingError) in
            guard let priority = FlowPriority(rawValue: text) else {
                throw SchedulingError("\"\(text)\" is not a priority; use one of \(FlowPriority.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            return priority
        }) { policy.priority = priority }
        if let attempts = try field("max_attempts", in: fields, { (text) throws(SchedulingError) in
            guard let number = Int(text), WorkPolicy.attemptsRange.contains(number) else {
                throw SchedulingError("must be a whole number from \(WorkPolicy.attemptsRange.lowerBound) to \(WorkPolicy.attemptsRange.upperBound), not \(text)")
            }
            return number
        }) { policy.maxAttempts = attempts }
        if let delay = try field("retry_delay", in: fields, { (text) throws(SchedulingError) in
            let delay = try Period(parsing: text)
            guard delay <= WorkPolicy.longestRetryDelay else {
                throw SchedulingError("\(delay) is longer than the longest retry delay, \(WorkPolicy.longestRetryDelay)")
            }
            return delay
        }) { policy.retryDelay = delay }
        if let overlap = try field("overlap", in: fields, { (text) throws(SchedulingError) in
            guard let overlap = OverlapPolicy(rawValue: text) else {
                throw SchedulingError("\"\(text)\" is not an overlap policy; use one of \(OverlapPolicy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            return overlap
        }) { policy.overlap = overlap }
        return policy
    }

    /// The latest `when` accepted: the end of the last year ISO 8601 writes with four digits.
    public static let latestWhen = CivilTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999_999)!.timestamp
    /// The earliest: the start of year 1.
    public static let earliestWhen = CivilTime(year: 1, month: 1, day: 1)!.timestamp

    /// The `when` as an instant, judged at `now` (which gives a date without a year its year).
    /// - Throws: ``JobDefinitionError`` for a day that year lacks, or an instant outside the
    ///   years 1 to 9999 (UTC) that every part of Kairos can write and read back.
    public func requestedWhen(now: Timestamp) throws(JobDefinitionError) -> Timestamp? {
        let instant: Timestamp?
        do {
            instant = try when?.timestamp(now: now)
        } catch {
            throw JobDefinitionError("'when': \(error.message)", at: [.key("when")])
        }
        if let instant, instant > Self.latestWhen || instant < Self.earliestWhen {
            throw JobDefinitionError(
                "'when': \(instant.iso8601) is outside the times Kairos schedules, \(Self.earliestWhen.iso8601) to 9999-12-31T23:59:59Z (UTC)",
                at: [.key("when")])
        }
        return instant
    }

    /// The trigger this definition asks for, judged at `now`.
    /// - Throws: ``JobDefinitionError`` for a one-shot in the past or a zero interval.
    public func trigger(now: Timestamp) throws(JobDefinitionError) -> Trigger {
        let when = try requestedWhen(now: now)
        let field = cron != nil ? "cron" : periodically == nil ? "when" : "periodically"
        let trigger: Trigger
        do {
            trigger = try Trigger.make(when: when, periodically: periodically, cron: cron, now: now)
        } catch {
            throw JobDefinitionError("'\(field)': \(error.message)", at: [.key(field)])
        }
        // A cron schedule starting late in year 9999 can have its first slot past what Kairos writes.
        if trigger.cron != nil, (trigger.firstSlot(atOrAfter: now).map { $0 > Self.latestWhen } ?? true) {
            throw JobDefinitionError(
                "'cron': the schedule has no time from its start to 9999-12-31T23:59:59Z (UTC), the last Kairos schedules", at: [.key("cron")])
        }
        return trigger
    }

    // MARK: Fields

    /// The path segment `DELETE /jobs/clean-failed` claims: a job of this id could never be deleted.
    public static let cleanFailedSegment = "clean-failed"

    private static func jobID(_ value: JSONValue?, handlers: HandlerRegistry) throws(JobDefinitionError) -> String {
        guard let value, !value.isNull else { return UUID().uuidString.lowercased() }
        let path: JSONPath = [.key("job_id")]
        guard let id = value.stringValue else { throw JobDefinitionError("'job_id' must be a string, not \(value.kindDescription)", at: path) }
        guard !id.isEmpty, id.utf8.count <= maximumIDLength else {
            throw JobDefinitionError("'job_id' must be 1 to \(maximumIDLength) bytes long, got \(id.utf8.count)", at: path)
        }
        guard !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw JobDefinitionError("'job_id' must not contain control characters", at: path)
        }
        guard id.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw JobDefinitionError("'job_id' must not be blank; give it a name, or leave it out for a generated one", at: path)
        }
        // Ids the routes already give another meaning: such a job could be made but not reached.
        if id == cleanFailedSegment {
            throw JobDefinitionError(
                "'job_id': \"\(id)\" is reserved: DELETE /jobs/\(id) removes the failure records, so a job of that id could never be deleted; choose another id",
                at: path)
        }
        if let handler = handlers.handlers.first(where: { $0.slug == id }) {
            throw JobDefinitionError(
                "'job_id': \"\(id)\" is reserved: POST /jobs/\(id) creates a job of handler \(handler.name); choose another id", at: path)
        }
        return id
    }

    /// A string field read through `parse`, or nil when absent or null. Numbers are accepted as
    /// their text, so `"periodically": 45` means 45 seconds, as in a YAML file.
    private static func field<T>(
        _ name: String, in fields: JSONObject, _ parse: (String) throws(SchedulingError) -> T
    ) throws(JobDefinitionError) -> T? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let text = value.stringOrNumberText else {
            throw JobDefinitionError("'\(name)' must be a string, not \(value.kindDescription)", at: [.key(name)])
        }
        do {
            return try parse(text)
        } catch {
            throw JobDefinitionError("'\(name)': \(error.message)", at: [.key(name)])
        }
    }
}
