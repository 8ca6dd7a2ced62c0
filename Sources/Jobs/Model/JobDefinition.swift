import Chronology
import Foundation
import JSON
import Scheduling

/// A job as a client defines it (a `POST /jobs` body, the query of `POST /jobs/<handler>`, or a
/// default-job file), checked: the handler exists and accepts the kwargs, the durations and
/// the date parse. Turning it into a schedule needs "now" (``trigger(now:)``).
public struct JobDefinition: Sendable, Equatable {
    public var id: String
    public var handler: any JobHandler
    public var kwargs: JSONObject
    public var when: Timestamp?
    public var periodically: Period?
    public var misfireGraceTime: Period?
    public var state: JobState

    /// The longest `job_id` accepted, in bytes.
    public static let maximumIDLength = 200
    static let keys = ["job_id", "handler", "kwargs", "when", "periodically", "misfire_grace_time", "state"]

    public static func == (lhs: JobDefinition, rhs: JobDefinition) -> Bool {
        lhs.id == rhs.id && lhs.handler.name == rhs.handler.name && lhs.kwargs == rhs.kwargs && lhs.when == rhs.when
            && lhs.periodically == rhs.periodically && lhs.misfireGraceTime == rhs.misfireGraceTime && lhs.state == rhs.state
    }

    /// Reads a definition from `object` (JSON body or YAML file).
    ///
    /// - Parameters:
    ///   - kwargsAtTopLevel: fabric8's default-job files put the handler's kwargs beside
    ///     `job_id`; when true, keys that are not job keys are kwargs.
    ///   - now: for dates without a year.
    /// - Throws: ``JobDefinitionError`` naming the field.
    public static func parse(
        _ object: JSONObject, handlers: HandlerRegistry, now: Timestamp, kwargsAtTopLevel: Bool = false
    ) throws(JobDefinitionError) -> JobDefinition {
        var kwargs = JSONObject()
        for (key, value) in object where !keys.contains(key) {
            guard kwargsAtTopLevel else {
                throw JobDefinitionError("unknown key \"\(key)\"; a job has \(keys.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            kwargs[key] = value
        }
        guard let handlerName = object["handler"] else { throw JobDefinitionError("'handler' is required; one of \(handlers.namesForMessages)") }
        guard let handlerName = handlerName.stringValue else {
            throw JobDefinitionError("'handler' must be a string, not \(handlerName.kindDescription)")
        }
        let handler = try handlers.handler(named: handlerName)
        if let given = object["kwargs"], !given.isNull {
            guard let given = given.objectValue else {
                throw JobDefinitionError("'kwargs' must be an object, not \(given.kindDescription)")
            }
            guard kwargs.isEmpty else { throw JobDefinitionError("give the handler's kwargs either in 'kwargs' or beside 'job_id', not both") }
            kwargs = given
        }
        return try JobDefinition(
            id: jobID(object["job_id"]), handler: handler, kwargs: kwargs, fields: object, now: now)
    }

    /// A definition whose schedule fields come as strings (the query string of
    /// `POST /jobs/<handler>`) and whose kwargs are given whole.
    public init(
        handler: any JobHandler, kwargs: JSONObject, fields: JSONObject, now: Timestamp
    ) throws(JobDefinitionError) {
        try self.init(id: Self.jobID(fields["job_id"]), handler: handler, kwargs: kwargs, fields: fields, now: now)
    }

    private init(id: String, handler: any JobHandler, kwargs: JSONObject, fields: JSONObject, now: Timestamp) throws(JobDefinitionError) {
        do {
            try handler.validate(kwargs)
        } catch {
            throw JobDefinitionError("'kwargs' for \(handler.name): \(error.message)")
        }
        self.id = id
        self.handler = handler
        self.kwargs = kwargs
        when = try Self.field("when", in: fields) { (text) throws(SchedulingError) in try LooseDate.parse(text, now: now) }
        periodically = try Self.field("periodically", in: fields) { (text) throws(SchedulingError) in try Period(parsing: text) }
        misfireGraceTime = try Self.field("misfire_grace_time", in: fields) { (text) throws(SchedulingError) in try Period(parsing: text) }
        state = try Self.field("state", in: fields) { (text) throws(SchedulingError) in
            guard let state = JobState(rawValue: text), state != .finished else {
                throw SchedulingError("\"\(text)\" is not a job state; use \"running\" or \"paused\"")
            }
            return state
        } ?? .running
    }

    /// The trigger this definition asks for, judged at `now`.
    /// - Throws: ``JobDefinitionError`` for a one-shot in the past or a zero interval.
    public func trigger(now: Timestamp) throws(JobDefinitionError) -> Trigger {
        do {
            return try Trigger.make(when: when, periodically: periodically, now: now)
        } catch {
            throw JobDefinitionError("'\(periodically == nil ? "when" : "periodically")': \(error.message)")
        }
    }

    // MARK: Fields

    private static func jobID(_ value: JSONValue?) throws(JobDefinitionError) -> String {
        guard let value, !value.isNull else { return UUID().uuidString.lowercased() }
        guard let id = value.stringValue else { throw JobDefinitionError("'job_id' must be a string, not \(value.kindDescription)") }
        guard !id.isEmpty, id.utf8.count <= maximumIDLength else {
            throw JobDefinitionError("'job_id' must be 1 to \(maximumIDLength) bytes long, got \(id.utf8.count)")
        }
        guard !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw JobDefinitionError("'job_id' must not contain control characters")
        }
        return id
    }

    /// A string field read through `parse`, or nil when absent or null. Numbers are accepted as
    /// their text, so `"periodically": 45` means 45 seconds, as in a YAML file.
    private static func field<T>(
        _ name: String, in fields: JSONObject, _ parse: (String) throws(SchedulingError) -> T
    ) throws(JobDefinitionError) -> T? {
        guard let value = fields[name], !value.isNull else { return nil }
        let text: String
        switch value {
        case .string(let string): text = string
        case .int(let number): text = String(number)
        case .double, .decimal: text = value.serialized()
        default: throw JobDefinitionError("'\(name)' must be a string, not \(value.kindDescription)")
        }
        do {
            return try parse(text)
        } catch {
            throw JobDefinitionError("'\(name)': \(error.message)")
        }
    }
}
