import Chronology
import JSON

/// A worker's proof that it holds a flow: a fencing token, new at every claim. Once the flow is
/// claimed again (after the lease expired) or given back, the old token is stale, and every verb
/// that carries it is refused, so a worker that lost its lease cannot complete work another now holds.
public struct LeaseToken: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }

    /// 128 random bits, as 32 hex digits: not to be guessed by another worker.
    public static func random() -> LeaseToken {
        var generator = SystemRandomNumberGenerator()
        let bits = [generator.next(), generator.next()] as [UInt64]
        return LeaseToken(bits.map { word in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined())
    }
}

/// Where a flow stands on the board, as a value: the rules of claims, leases, retries and
/// outcomes, without the database, which only stores what ``handle(_:)`` decides. Every change a
/// verb makes is one ``Action/store(_:)``; a refusal changes nothing; repeating the last call with
/// the same token changes nothing and gets the same answer (``Action/repeated``), since a worker
/// may retry a call whose response it lost.
///
/// `attempt` counts the claims that used an attempt: a claim adds one, an abandon gives its one
/// back. A failure with `retry` goes back to the board while `attempt < maxAttempts`, after
/// `retryDelay` doubled for each attempt before (±10 % jitter, at most a day), else the flow is
/// `failed`. A lease that runs out (its worker lost, killed say) puts the flow back at once: a
/// lost worker is not the flow's fault, up to ``lostLeasesForgiven`` times beyond its attempts;
/// past that the flow is `failed`, since it may be what kills its workers.
public struct FlowLease: Sendable, Equatable {
    public typealias State = FlowState

    /// Who holds a claimed flow, with which token, until when, for leases of what length.
    public struct Holder: Sendable, Equatable {
        public var worker: String
        public var token: LeaseToken
        public var expiresAt: Timestamp
        /// The claim's lease length, which a heartbeat that names none extends by.
        public var lease: Duration

        public init(worker: String, token: LeaseToken, expiresAt: Timestamp, lease: Duration = .seconds(30)) {
            self.worker = worker
            self.token = token
            self.expiresAt = expiresAt
            self.lease = lease
        }
    }

    /// Leases that may run out beyond a flow's attempts before it is failed (see above).
    public static let lostLeasesForgiven = 2
    /// The longest a retry waits, however many attempts came before.
    public static let longestRetryWait: Duration = .seconds(86_400)

    /// A verb that ends or gives back a lease; remembered with its token so a repeat is recognised.
    public enum Verb: String, Sendable, Equatable, CaseIterable {
        case complete, fail, abandon, trash
    }

    public var state: State
    public var attempt: Int
    public var maxAttempts: Int
    public var retryDelay: Duration
    /// Not offered to a claim before this time (a retry waits out its delay).
    public var availableAt: Timestamp
    /// Set while `claimed`.
    public var holder: Holder?
    /// The last verb that ended a lease, and its token: what a repeated call is compared with.
    public var lastCall: (verb: Verb, token: LeaseToken)?
    /// The state that call left the flow in: a repeat is answered with it.
    public var lastOutcome: State?
    /// 0...1, as the holder last reported it.
    public var progress: Double?
    /// Whatever else the holder last reported with a heartbeat (a JSON object).
    public var details: JSONValue?
    public var result: JSONValue?
    public var error: String?

    public init(
        state: State = .unclaimed, attempt: Int = 0, maxAttempts: Int = 1, retryDelay: Duration = .seconds(10),
        availableAt: Timestamp, holder: Holder? = nil
    ) {
        self.state = state
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.retryDelay = retryDelay
        self.availableAt = availableAt
        self.holder = holder
    }

    public static func == (lhs: FlowLease, rhs: FlowLease) -> Bool {
        lhs.state == rhs.state && lhs.attempt == rhs.attempt && lhs.maxAttempts == rhs.maxAttempts
            && lhs.retryDelay == rhs.retryDelay && lhs.availableAt == rhs.availableAt && lhs.holder == rhs.holder
            && lhs.lastCall?.verb == rhs.lastCall?.verb && lhs.lastCall?.token == rhs.lastCall?.token
            && lhs.lastOutcome == rhs.lastOutcome
            && lhs.progress == rhs.progress && lhs.details == rhs.details && lhs.result == rhs.result && lhs.error == rhs.error
    }

    public enum Event: Sendable {
        /// `token` is new, made by the caller (random); `lease` is how long the claim holds.
        case claim(worker: String, token: LeaseToken, now: Timestamp, lease: Duration)
        /// `lease` nil: the claim's lease length again.
        case heartbeat(LeaseToken, now: Timestamp, lease: Duration?, progress: Double?, details: JSONValue? = nil)
        case complete(LeaseToken, result: JSONValue)
        /// `jitter` in -0.1...0.1, drawn by the caller, spreads retries of flows that failed together.
        case fail(LeaseToken, error: String, retry: Bool, now: Timestamp, jitter: Double)
        case abandon(LeaseToken)
        case trash(LeaseToken)
        /// A sweep: a claim whose lease ran out goes back to the board; its token is then stale.
        case expire(now: Timestamp)
    }

    public enum Refusal: Sendable, Equatable {
        /// The token is not the flow's current one: the lease was lost (409).
        case staleToken
        /// Another worker holds the flow, and its lease has not run out.
        case held
        /// Waiting out a retry delay until the time given.
        case notYetAvailable(Timestamp)
        /// Completed, failed or trashed: never offered again.
        case finished(State)
        /// Unclaimed: there is no lease to act on.
        case notClaimed
    }

    public enum Action: Sendable, Equatable {
        case store(FlowLease)
        case refuse(Refusal)
        /// The same call as the last one that ended this lease: answer as then, change nothing.
        case repeated
        /// Nothing to do (a sweep over a flow that is not overdue).
        case nothing
    }

    public mutating func handle(_ event: Event) -> Action {
        switch event {
        case .claim(let worker, let token, let now, let lease):
            switch state {
            case .unclaimed where availableAt > now:
                return .refuse(.notYetAvailable(availableAt))
            case .claimed where holder.map({ $0.expiresAt > now }) ?? false:
                return .refuse(.held)
            case .unclaimed, .claimed:
                // Claimed by a holder whose lease has run out: it is given back first (or failed,
                // when too many leases have run out), as a sweep would.
                if state == .claimed {
                    _ = handle(.expire(now: now))
                    guard state == .unclaimed else { return .store(self) }
                }
                state = .claimed
                attempt += 1
                holder = Holder(worker: worker, token: token, expiresAt: now + lease.microseconds, lease: lease)
                progress = nil
                details = nil
                return .store(self)
            case .completed, .failed, .trashed:
                return .refuse(.finished(state))
            }

        case .heartbeat(let token, let now, let lease, let progress, let details):
            if let refusal = refusal(for: token, verb: nil) { return refusal }
            if var held = holder {
                if let lease { held.lease = lease }
                held.expiresAt = now + held.lease.microseconds
                holder = held
            }
            if let progress { self.progress = progress }
            if let details { self.details = details }
            return .store(self)

        case .complete(let token, let result):
            if let refusal = refusal(for: token, verb: .complete) { return refusal }
            self.result = result
            end(.completed, by: .complete, token: token)
            return .store(self)

        case .fail(let token, let error, let retry, let now, let jitter):
            if let refusal = refusal(for: token, verb: .fail) { return refusal }
            self.error = error
            if retry && attempt < maxAttempts {
                end(.unclaimed, by: .fail, token: token)
                availableAt = now + retryWait(jitter: jitter)
            } else {
                end(.failed, by: .fail, token: token)
            }
            return .store(self)

        case .abandon(let token):
            if let refusal = refusal(for: token, verb: .abandon) { return refusal }
            attempt -= 1  // given back unused
            end(.unclaimed, by: .abandon, token: token)
            return .store(self)

        case .trash(let token):
            if let refusal = refusal(for: token, verb: .trash) { return refusal }
            end(.trashed, by: .trash, token: token)
            return .store(self)

        case .expire(let now):
            guard state == .claimed, let holder, holder.expiresAt <= now else { return .nothing }
            self.holder = nil
            if attempt >= maxAttempts + Self.lostLeasesForgiven {
                state = .failed
                error = "its lease ran out on each of \(attempt) attempts (the workers were lost); failed, as it may be what stops them"
            } else {
                state = .unclaimed
                availableAt = now
            }
            return .store(self)
        }
    }

    /// Why a verb carrying `token` cannot act, or nil when it may: the flow is claimed under that
    /// token. A lease past its expiry still counts until someone else claims the flow (or a
    /// sweep gives it back): until then no one else holds it, and finished work is not thrown
    /// away. `verb` nil: a heartbeat, which is never "the same call" as one that ended a lease.
    private func refusal(for token: LeaseToken, verb: Verb?) -> Action? {
        if state == .claimed, holder?.token == token { return nil }
        if let verb, let last = lastCall, last.token == token {
            // The call that ended this token's lease, repeated: the same answer. Any other verb
            // after the lease ended is refused, as it would be with any other stale token.
            return last.verb == verb ? .repeated : .refuse(.staleToken)
        }
        switch state {
        case .completed, .failed, .trashed:
            return lastCall?.token == token || holder?.token == token ? .refuse(.staleToken) : .refuse(.finished(state))
        case .unclaimed:
            return .refuse(lastCall == nil && attempt == 0 ? .notClaimed : .staleToken)
        case .claimed:
            return .refuse(.staleToken)
        }
    }

    private mutating func end(_ next: State, by verb: Verb, token: LeaseToken) {
        state = next
        holder = nil
        lastCall = (verb, token)
        lastOutcome = next
    }

    /// `retryDelay` doubled for each attempt before this one, with the jitter, in microseconds.
    private func retryWait(jitter: Double) -> Int64 {
        RetryBackoff.wait(base: retryDelay.microseconds, afterAttempt: attempt, jitter: jitter, longest: Self.longestRetryWait.microseconds)
    }
}

extension FlowLease {
    /// The lease as the API shows it beside a flow; the token only to the worker that holds it.
    public func json(showingToken: Bool) -> JSONObject {
        var object: JSONObject = [
            "attempt": .int(Int64(attempt)), "max_attempts": .int(Int64(maxAttempts)),
            "available_at": .string(availableAt.iso8601), "worker": holder.map { .string($0.worker) } ?? .null,
            "lease_expires_at": holder.map { .string($0.expiresAt.iso8601) } ?? .null,
            "progress": progress.map(JSONValue.double) ?? .null, "details": details ?? .null, "result": result ?? .null,
            "error": error.map(JSONValue.string) ?? .null,
        ]
        if showingToken { object["lease_token"] = holder.map { .string($0.token.text) } ?? .null }
        return object
    }
}
