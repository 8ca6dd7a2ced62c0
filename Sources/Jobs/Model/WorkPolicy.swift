import JSON
import Scheduling

/// How a job's work is offered and retried on the flow board, and what a firing does while the
/// job's previous work is not done: the job keys `priority`, `max_attempts`, `retry_delay` and
/// `overlap`. Every flow a firing posts carries the first three as they were at the firing.
public struct WorkPolicy: Sendable, Equatable {
    public var priority: FlowPriority
    /// Claims a flow may use before a failure is final (a lost lease does not use one).
    public var maxAttempts: Int
    /// The wait before the first retry; it doubles for each attempt after.
    public var retryDelay: Period
    public var overlap: OverlapPolicy

    public static let attemptsRange = 1...100
    /// The longest first retry delay accepted (later ones double it, up to a day).
    public static let longestRetryDelay = Period(microseconds: 86_400_000_000)

    public init(
        priority: FlowPriority = .normal, maxAttempts: Int = 1, retryDelay: Period = Period(microseconds: 10_000_000),
        overlap: OverlapPolicy = .allowAll
    ) {
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.retryDelay = retryDelay
        self.overlap = overlap
    }

    /// The keys as a job shows them.
    func writeMembers(into members: inout some JSONMemberSink) {
        members.member("priority", priority.rawValue)
        members.member("max_attempts", Int64(maxAttempts))
        members.member("retry_delay", retryDelay.description)
        members.member("overlap", overlap.rawValue)
    }
}

/// The five priorities of TaskFlow's job board; a claim takes the highest first.
public enum FlowPriority: String, Sendable, CaseIterable {
    case veryHigh = "very_high", high, normal, low, veryLow = "very_low"

    /// As stored: 0 for `very_high` to 4 for `very_low`, so an ascending index scan is priority order.
    public var rank: Int { Self.allCases.firstIndex(of: self)! }

    public init?(rank: Int) {
        guard Self.allCases.indices.contains(rank) else { return nil }
        self = Self.allCases[rank]
    }
}

/// What a firing does while the job's previous work is not done (some flow of it is unclaimed
/// or claimed).
public enum OverlapPolicy: String, Sendable, CaseIterable {
    /// Every firing posts its flows (fabric8's behaviour, the flow handlers' default).
    case allowAll = "allow_all"
    /// The firing is recorded as `skipped`.
    case skip
    /// The firing is recorded as `buffered` and carried out when the previous work ends; a
    /// firing while one is buffered is skipped.
    case bufferOne = "buffer_one"
    /// The previous work's unclaimed flows are trashed, and the firing posts its own.
    case cancelOther = "cancel_other"
}

/// What one firing does under its job's ``OverlapPolicy``: pure, so every boundary is a table test.
public enum OverlapDecision: Sendable, Equatable {
    case fire
    case skip
    case buffer
    /// Fire, and trash the unclaimed flows of the job's earlier runs.
    case fireCancellingPrevious

    /// - Parameters:
    ///   - busy: some flow of the job is unclaimed or claimed.
    ///   - buffered: the job has a buffered firing waiting.
    public static func decide(_ policy: OverlapPolicy, busy: Bool, buffered: Bool) -> OverlapDecision {
        switch policy {
        case .allowAll: .fire
        case .skip: busy ? .skip : .fire
        // A buffered firing goes first, even at the instant the work it waited for ended: it is
        // released by the scheduler's next look, and this one would overtake it.
        case .bufferOne: buffered ? .skip : busy ? .buffer : .fire
        case .cancelOther: busy ? .fireCancellingPrevious : .fire
        }
    }
}

/// How long a retry waits: the base delay doubled for each attempt before the one that failed,
/// spread by `jitter` (drawn by the caller, clamped to ±10 %) so that work that failed together
/// does not come back together, and at most `longest`. In microseconds.
enum RetryBackoff {
    static func wait(base: Int64, afterAttempt attempt: Int, jitter: Double, longest: Int64) -> Int64 {
        let doubled = Double(base) * Double(1 << min(max(attempt - 1, 0), 30))
        let wait = doubled * (1 + min(max(jitter, -0.1), 0.1))
        return Int64(min(wait, Double(longest)))
    }
}
