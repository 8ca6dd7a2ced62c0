import Chronology
import HTTPServer
import Jobs
import JSON

/// The workers' side of the flow board: claim flows, then report on each with its lease token.
struct FlowBoardRoutes {
    let board: FlowBoard
    let metrics: ServiceMetrics
    let waiters: ClaimWaiters
    /// The operator's cap on waits (``longestWait`` or less): a claim asking more waits this long.
    let waitLimit: Duration

    static let longestLease: Duration = .seconds(3600)
    static let longestWait: Duration = .seconds(60)
    static let mostPerCall = 1000

    func add(to router: inout Router) {
        let base = KairosAPI.basePath + "/flows"
        router.add(.post, base + "/claim", query: [], answeringDomainErrors(claim))
        router.add(.post, base + "/complete", query: [], answeringDomainErrors(completeMany))
        for verb in ["heartbeat", "complete", "fail", "abandon", "trash"] {
            router.add(.post, base + "/{id}/" + verb, query: [], answeringDomainErrors { try act(verb, $0) })
        }
    }

    /// `{"worker", "flow_names"?, "limit"?, "lease"?, "wait"?}` → `{"flows": [flow + lease, with
    /// its token]}`. With a `wait` and nothing to claim, the request is parked (no thread, no
    /// connection) until a notice says flows it could take became claimable, one of them is due
    /// by itself (a retry's delay, a lease running out), or the wait is over; then it claims again.
    func claim(_ request: HTTPRequest) throws -> HTTPResponse {
        let fields = try BodyFields(try request.jsonObjectBody(), known: ["worker", "flow_names", "limit", "lease", "wait"])
        let worker = try fields.requiredString("worker")
        let names = try fields.stringList("flow_names", maximumCount: 100)
        let limit = try fields.integer("limit", fallback: 1, range: 1...Self.mostPerCall)
        let lease = try fields.duration("lease", fallback: .seconds(30), range: .seconds(1)...Self.longestLease)
        let wait = min(try fields.duration("wait", fallback: .zero, range: .zero...Self.longestWait), waitLimit)
        let nameSet = names.map(Set.init)
        // Taken before looking: a notice between the look and the registration then wakes it.
        let ticket = waiters.ticket(for: nameSet)
        let left = wait - (ContinuousClock.now - request.receivedAt)
        let report = try board.claimReporting(worker: worker, flowNames: names, limit: limit, lease: lease, lookingAhead: left > .zero)
        metrics.recordClaim(claimed: report.flows.count, leasesExpired: report.leasesExpired)
        // Its client left while it claimed (a worker stopping, say): nobody will work on these.
        if request.cancellation.isCancelled, !report.flows.isEmpty {
            try giveBack(report.flows)
            throw HTTPError(.serviceUnavailable, "the client left before its claim was answered; its flows went back on the board")
        }
        let answer = HTTPResponse.json(["flows": .array(report.flows.map { .object(Self.describe($0.flow, $0.lease, showingToken: true)) })])
        guard report.flows.isEmpty, left > .zero else { return answer }
        // A flow due by itself soon is claimed when it is, a moment after (not before: too soon
        // would find it not yet due, and park again). At least 50 ms: a lease that has run out
        // but that another claim holds locked is "due now" until that claim commits.
        let until = report.nextChance.map { min(left, max($0 + .milliseconds(5), .milliseconds(50))) } ?? left
        let waiters = waiters
        return .park(for: until, fallback: { answer }) { wake in waiters.register(names: nameSet, ticket: ticket, wake: wake) }
    }

    /// Abandons flows just claimed, with their new tokens.
    private func giveBack(_ flows: [FlowBoard.ClaimedFlow]) throws {
        for claimed in flows {
            guard let token = claimed.lease.holder?.token else { continue }
            _ = try board.act(on: claimed.flow.id) { _ in .abandon(token) }
        }
    }

    /// `POST /flows/{id}/heartbeat|complete|fail|abandon|trash` with the lease token.
    func act(_ verb: String, _ request: HTTPRequest) throws -> HTTPResponse {
        let id = try flowID(request)
        let body = try request.jsonObjectBody()
        let fields: BodyFields
        let event: @Sendable (Timestamp) -> FlowLease.Event
        switch verb {
        case "heartbeat":
            fields = try BodyFields(body, known: ["lease_token", "lease", "progress", "details"])
            let token = try Self.token(fields)
            // Without a `lease`, the claim's length again.
            let lease = fields.has("lease") ? try fields.duration("lease", fallback: .seconds(30), range: .seconds(1)...Self.longestLease) : nil
            let progress = try fields.fraction("progress")
            let details = try fields.object("details")
            event = { now in .heartbeat(token, now: now, lease: lease, progress: progress, details: details) }
        case "complete":
            fields = try BodyFields(body, known: ["lease_token", "result"])
            let token = try Self.token(fields)
            let result = body["result"] ?? .null
            event = { _ in .complete(token, result: result) }
        case "fail":
            fields = try BodyFields(body, known: ["lease_token", "error", "retry"])
            let token = try Self.token(fields)
            let error = try fields.requiredString("error", maximumLength: 10_000)
            let retry = try fields.bool("retry", fallback: true)
            // Drawn here, not in the lease: the one source of chance stays outside the rules.
            let jitter = Double.random(in: -0.1...0.1)
            event = { now in .fail(token, error: error, retry: retry, now: now, jitter: jitter) }
        case "abandon", "trash":
            fields = try BodyFields(body, known: ["lease_token"])
            let token = try Self.token(fields)
            event = { _ in verb == "abandon" ? .abandon(token) : .trash(token) }
        default:
            throw HTTPError(.notFound, "no such verb \(verb)")
        }
        let (outcome, changed) = try board.actReporting(on: id, event)
        if verb == "fail", changed, case .done(let flow, _) = outcome {
            metrics.recordFlowFailure(retried: flow.state == .unclaimed)
        }
        switch outcome {
        case .done(let flow, let lease):
            return .json(.object(Self.describe(flow, lease, showingToken: verb == "heartbeat")))
        case .refused(let refusal):
            throw HTTPError(.conflict, Self.explain(refusal, id: id))
        case .unknownFlow:
            throw HTTPError(.notFound, "no flow with id \(id)")
        }
    }

    /// `{"flows": [{"id", "lease_token", "result"}, ...]}` (up to 1,000) in one transaction →
    /// `{"flows": [{"id", "outcome": "completed" | "conflict" | "not_found", "error"?}]}`.
    func completeMany(_ request: HTTPRequest) throws -> HTTPResponse {
        let fields = try BodyFields(try request.jsonObjectBody(), known: ["flows"])
        guard let items = fields.object["flows"]?.arrayValue, (1...Self.mostPerCall).contains(items.count) else {
            throw HTTPError(.badRequest, "'flows' must be a list of 1 to \(Self.mostPerCall) {\"id\", \"lease_token\", \"result\"} objects")
        }
        var completions: [(id: Int64, token: LeaseToken, result: JSONValue)] = []
        for (index, item) in items.enumerated() {
            guard let object = item.objectValue else { throw HTTPError(.badRequest, "'flows[\(index)]' must be an object, not \(item.kindDescription)") }
            let entry = try BodyFields(object, known: ["id", "lease_token", "result"], prefix: "flows[\(index)].")
            let id = try entry.requiredInteger("id", range: 1...Int(Int64.max))
            completions.append((Int64(id), try Self.token(entry), object["result"] ?? .null))
        }
        let outcomes = try board.completeMany(completions)
        return .json(["flows": .array(zip(completions, outcomes).map { completion, outcome in
            switch outcome {
            case .done: return ["id": .int(completion.id), "outcome": "completed"]
            case .refused(let refusal): return ["id": .int(completion.id), "outcome": "conflict", "error": .string(Self.explain(refusal, id: completion.id))]
            case .unknownFlow: return ["id": .int(completion.id), "outcome": "not_found", "error": .string("no flow with id \(completion.id)")]
            }
        })])
    }

    private func flowID(_ request: HTTPRequest) throws(HTTPError) -> Int64 {
        let text = request.parameter("id")
        guard let id = Int64(text), id > 0 else { throw HTTPError(.notFound, "no flow with id \"\(text)\"; flow ids are positive integers") }
        return id
    }

    private static func token(_ fields: BodyFields) throws(HTTPError) -> LeaseToken {
        LeaseToken(try fields.requiredString("lease_token", maximumLength: 64))
    }

    static func describe(_ flow: Flow, _ lease: FlowLease, showingToken: Bool) -> JSONObject {
        var object = flow.json.objectValue ?? [:]
        let leaseFields = lease.json(showingToken: showingToken)
        for (key, value) in zip(leaseFields.keys, leaseFields.values) { object[key] = value }
        return object
    }

    static func explain(_ refusal: FlowLease.Refusal, id: Int64) -> String {
        switch refusal {
        case .staleToken: "flow \(id): that lease token is not the flow's current one; the lease was lost (it ran out and the flow was claimed again, or was given back)"
        case .held: "flow \(id) is held by another worker"
        case .notYetAvailable(let time): "flow \(id) waits to be retried until \(time.iso8601)"
        case .finished(let state): "flow \(id) is \(state.rawValue); it takes no more calls"
        case .notClaimed: "flow \(id) is not claimed; claim it first (POST /api/v1/flows/claim)"
        }
    }
}
