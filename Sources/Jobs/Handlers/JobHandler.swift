import Chronology
import FilterQuery
import JSON

/// What a job runs. A handler reads a job's kwargs into a typed ``JobWork`` once, when the job
/// is posted or loaded (so a wrong payload is a 400 at creation rather than a failure at fire
/// time) and when a stored job is read to fire; nothing reads kwargs untyped after that.
public protocol JobHandler: Sendable {
    /// fabric8's name, used in job bodies and stored: `FlowScheduling`.
    var name: String { get }
    /// The URL form for `POST /jobs/<slug>`: `flow-scheduling`.
    var slug: String { get }
    /// - Throws: ``KwargsError`` naming the key and what it should be.
    func work(from kwargs: JSONObject) throws(KwargsError) -> any JobWork
    /// A job's `overlap` when it gives none.
    var defaultOverlap: OverlapPolicy { get }
    /// Kwargs it takes that no answer shows: some of ``WriteOnlyKwargs/keys``, which every answer
    /// and record redacts whatever the handler.
    var writeOnlyKwargs: Set<String> { get }
    /// False for a handler whose work is not flows: the job keys for flows (`priority`,
    /// `max_attempts`, `retry_delay`) are refused on its jobs rather than ignored.
    var postsFlows: Bool { get }
}

extension JobHandler {
    /// Every firing posts, as fabric8's flow handlers did.
    public var defaultOverlap: OverlapPolicy { .allowAll }
    public var writeOnlyKwargs: Set<String> { [] }
    public var postsFlows: Bool { true }
}

/// A job's kwargs, read: what each of its firings does, in two stages.
///
/// 1. ``fire(_:context:)`` runs inside the transaction that claims the job and records the run,
///    so what it returns is posted exactly once per scheduled time. It must not do outside
///    work; what it may read, it reads through its ``FiringContext``.
/// 2. What it returns as ``FiringDecision/afterCommit`` runs once that transaction has
///    committed, on the firer's bounded ``AfterCommitExecutor``: where outside work (an HTTP
///    call) belongs, since a rollback could not undo it. As it stands that stage runs at most
///    once: work lost with its process, or refused by a full queue, is not taken up again.
///    A handler that needs at least once keeps a lease on its run (the webhook handler's issue).
public protocol JobWork: Sendable {
    func fire(_ firing: FiringIdentity, context: FiringContext) throws -> FiringDecision
}

/// Which firing this is: the job and the scheduled time, unique per job, the same on every
/// retry, so whatever a firing posts or sends can be recognised as a repeat.
public struct FiringIdentity: Sendable, Hashable {
    public var jobID: String
    public var scheduledFor: Timestamp

    public init(jobID: String, scheduledFor: Timestamp) {
        self.jobID = jobID
        self.scheduledFor = scheduledFor
    }
}

/// What a firing decided inside its transaction.
public struct FiringDecision: Sendable {
    /// The flows to post, in order; their positions make them unique within the firing.
    public var flows: [FlowRequest]
    /// Outside work recorded with the run and carried out after the commit at least once, under
    /// a lease (``DeliveryDispatcher``); the run stays pending until it ends.
    public var delivery: DeliveryRequest?
    /// Work for after the commit, given the run that was recorded, at most once; nil for none.
    public var afterCommit: (@Sendable (CommittedFiring) -> Void)?

    public init(flows: [FlowRequest] = [], delivery: DeliveryRequest? = nil, afterCommit: (@Sendable (CommittedFiring) -> Void)? = nil) {
        self.flows = flows
        self.delivery = delivery
        self.afterCommit = afterCommit
    }
}

/// A firing's outside work as recorded: what to send, and how many attempts it gets.
public struct DeliveryRequest: Sendable, Equatable {
    public var request: JSONObject
    public var maxAttempts: Int

    public init(request: JSONObject, maxAttempts: Int) {
        self.request = request
        self.maxAttempts = maxAttempts
    }
}

/// A firing whose run is committed: its identity and the run's id.
public struct CommittedFiring: Sendable, Hashable {
    public var identity: FiringIdentity
    public var runID: Int64
}

/// What a firing lets its handler read: the rows of a `$filter` query, read within the firing's
/// own transaction; and how many bytes of arguments the firing may post in all.
public struct FiringContext {
    private let readRows: (FilterQuery) throws -> [JSONObject]
    /// Bytes (compact JSON) the firing's flow arguments may come to.
    public let outputLimit: Int

    public init(outputLimit: Int = FilterPolicy.defaultMaximumBytes, rows: @escaping (FilterQuery) throws -> [JSONObject]) {
        self.outputLimit = outputLimit
        readRows = rows
    }

    /// The rows `query` matches now.
    public func rows(matching query: FilterQuery) throws -> [JSONObject] { try readRows(query) }
}

/// Kwargs a handler refuses; the message names the key, `path` says where it is.
public struct KwargsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// Where in the kwargs the fault is; empty for the kwargs as a whole.
    public let path: JSONPath

    public init(_ message: String, at path: JSONPath = []) {
        self.message = message
        self.path = path
    }

    public var description: String { message }
}

/// One flow a firing asks to post.
public struct FlowRequest: Sendable, Equatable {
    public var flowName: String
    /// Any JSON value; `null` is a valid argument.
    public var arguments: JSONValue
    public var taskNames: [String]?
    public var runSubsequent: Bool

    public init(flowName: String, arguments: JSONValue, taskNames: [String]? = nil, runSubsequent: Bool = false) {
        self.flowName = flowName
        self.arguments = arguments
        self.taskNames = taskNames
        self.runSubsequent = runSubsequent
    }
}
