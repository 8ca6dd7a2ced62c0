import Chronology
import JSON
import Postgres

/// The flows that firings posted: for operators to read, and for workers to claim and report
/// on. What a claim or a verb does is ``FlowLease``'s decision; the board reads the leases under
/// lock, lets the lease decide, and stores what it decided, in one transaction each.
public struct FlowBoard: Sendable {
    public let pool: PostgresPool
    public let clock: JobClock

    public init(pool: PostgresPool, clock: JobClock = .database) {
        self.pool = pool
        self.clock = clock
    }

    /// A flow a worker now holds.
    public struct ClaimedFlow: Sendable, Equatable {
        public let flow: Flow
        public let lease: FlowLease
    }

    /// Claims up to `limit` flows for `worker` (of `flowNames`, when given) for `lease`: taken
    /// over from holders whose lease ran out first, then unclaimed ones by priority. Two claims
    /// never get the same flow (`FOR UPDATE SKIP LOCKED`); each claimed flow has a new token.
    public func claim(worker: String, flowNames: [String]?, limit: Int, lease: Duration) throws -> [ClaimedFlow] {
        try claimReporting(worker: worker, flowNames: flowNames, limit: limit, lease: lease).flows
    }

    /// What a claim did.
    public struct ClaimReport: Sendable {
        public var flows: [ClaimedFlow] = []
        /// Run-out leases it swept back to the board (or failed) first.
        public var leasesExpired = 0
        /// When it claimed nothing and was asked to look ahead: how soon a flow it could take
        /// becomes claimable by itself (a retry's delay ends, a lease runs out); nil if none will.
        public var nextChance: Duration?
    }

    /// ``claim(worker:flowNames:limit:lease:)``, reporting what else it did and saw.
    public func claimReporting(
        worker: String, flowNames: [String]?, limit: Int, lease: Duration, lookingAhead: Bool = false
    ) throws -> ClaimReport {
        try pool.withTransaction { tx in
            // The claim must read `flows_claimable` in its order and stop at the limit. With flows of
            // a name the statistics have not seen yet (a firing just posted 50,000 of them), the
            // planner would rather sort every unclaimed flow: measured, 300 ms a claim instead of 1.
            // Set first, in one round trip with BEGIN, the sweep and the candidates: with no lease
            // run out, which is nearly always, the claim is that trip and the COMMIT's.
            let answers = try tx.queries([
                FlowLeasesTable.claimPlanning, FlowLeasesTable.expiredForUpdate(limit: limit, clock: clock),
                FlowLeasesTable.claimCandidates(names: flowNames, limit: limit, clock: clock),
            ])
            // Leases that ran out go back on the board (or fail, when too many have), so that
            // what is offered next is in one order: priority, availability, age.
            let sweep = try Self.expire(answers[1])
            var candidates = answers[2]
            var notified = sweep.returnedNames
            if !sweep.leases.isEmpty {
                try tx.execute(FlowLeasesTable.leaseUpdateMany(sweep.leases))
                Self.settleRunsAfterCommit(of: sweep.ended, in: tx)
                // What the sweep gave back is offered in the board's order with the rest: the
                // candidates are read again (those locked already come back with them). Those
                // of the first read left out stay locked until the commit, skipped by other
                // claims meanwhile: their names are in the notice, so that a waiting claim looks again.
                notified += try candidates.map { try $0.decode(String.self, column: "flow_name") }
                candidates = try tx.query(FlowLeasesTable.claimCandidates(names: flowNames, limit: limit, clock: clock))
            }
            if !notified.isEmpty { try tx.execute(FlowsTable.flowNotify(FlowNotice(names: notified))) }

            var claimed: [ClaimedFlow] = []
            for row in candidates {
                var value = try FlowLeasesTable.decode(row)
                let now = try row.decode(Timestamp.self, column: "now")
                let event = FlowLease.Event.claim(worker: worker, token: .random(), now: now, lease: lease)
                guard case .store(let next) = value.handle(event), next.state == .claimed else { continue }
                var flow = try FlowsTable.decode(row)
                flow.state = next.state
                claimed.append(ClaimedFlow(flow: flow, lease: next))
            }
            guard !claimed.isEmpty else {
                var report = ClaimReport(leasesExpired: sweep.leases.count)
                if lookingAhead, let micros = try tx.query(FlowLeasesTable.nextChance(names: flowNames, clock: clock))[0].decode(Int64?.self, column: "micros") {
                    report.nextChance = .microseconds(max(0, micros))
                }
                return report
            }
            // Written with the COMMIT, in its round trip: the rows are locked already.
            tx.executeAtCommit(FlowLeasesTable.leaseUpdateMany(claimed.map { ($0.flow.id, $0.lease) }))
            return ClaimReport(flows: claimed, leasesExpired: sweep.leases.count)
        }
    }

    /// What running out does to these leases (rows of ``FlowLeasesTable/expiredForUpdate``): the
    /// leases to store, the names of the flows given back, and the flows it ended (out of attempts).
    private static func expire(_ rows: PostgresRows) throws -> (leases: [(id: Int64, lease: FlowLease)], returnedNames: [String], ended: [Flow]) {
        var leases: [(id: Int64, lease: FlowLease)] = []
        var returnedNames: [String] = []
        var ended: [Flow] = []
        for row in rows {
            var value = try FlowLeasesTable.decode(row)
            guard case .store(let next) = value.handle(.expire(now: try row.decode(Timestamp.self, column: "now"))) else { continue }
            leases.append((try row.decode(Int64.self, column: "id"), next))
            if next.state == .unclaimed { returnedNames.append(try row.decode(String.self, column: "flow_name")) }
            if next.state.isFinal {
                var flow = try FlowsTable.decode(row)
                flow.state = next.state
                ended.append(flow)
            }
        }
        return (leases, returnedNames, ended)
    }

    /// What a verb on one flow came to.
    public enum VerbOutcome: Sendable, Equatable {
        /// Done now, or earlier by the same call (a repeat): the flow and its lease as they stand.
        case done(Flow, FlowLease)
        case refused(FlowLease.Refusal)
        case unknownFlow
    }

    /// Applies the verb `event` makes at the judging time to flow `id`'s lease, and stores it.
    public func act(on id: Int64, _ event: (Timestamp) -> FlowLease.Event) throws -> VerbOutcome {
        try actReporting(on: id, event).outcome
    }

    /// ``act(on:_:)``, saying whether the call changed the flow (false for a repeat or a refusal).
    public func actReporting(on id: Int64, _ event: (Timestamp) -> FlowLease.Event) throws -> (outcome: VerbOutcome, changed: Bool) {
        try pool.withTransaction { tx in try act(on: id, event, in: tx) }
    }

    /// Completes many flows in one transaction, each as its own ``act(on:_:)`` would, in the
    /// order given: one refusal does not stop the others. The flows are locked in id order first,
    /// so two batches over the same flows cannot deadlock, and written in one statement.
    public func completeMany(_ completions: [(id: Int64, token: LeaseToken, result: JSONValue)]) throws -> [VerbOutcome] {
        try pool.withTransaction { tx in
            var current: [Int64: (flow: Flow, lease: FlowLease)] = [:]
            let locked = try tx.queries([FlowLeasesTable.genericPlans, FlowLeasesTable.leasesForUpdate(ids: completions.map(\.id), clock: clock)])[1]
            for row in locked {
                let flow = try FlowsTable.decode(row)
                current[flow.id] = (flow, try FlowLeasesTable.decode(row))
            }
            var changed: Set<Int64> = []
            let outcomes: [VerbOutcome] = completions.map { completion in
                guard let entry = current[completion.id] else { return .unknownFlow }
                let decision = Self.decide(entry.flow, entry.lease, .complete(completion.token, result: completion.result))
                if let stored = decision.stored {
                    current[completion.id] = stored
                    changed.insert(completion.id)
                }
                return decision.outcome
            }
            if !changed.isEmpty {
                tx.executeAtCommit(FlowLeasesTable.leaseUpdateMany(changed.sorted().map { ($0, current[$0]!.lease) }))
            }
            Self.settleRunsAfterCommit(of: changed.map { current[$0]!.flow }, in: tx)
            return outcomes
        }
    }

    /// Settles the runs of the flows `tx` ends (see ``RunsTable/runSettle(where:)``), once per
    /// run, after it commits and in its COMMIT's round trip. The change stands whatever this
    /// does: should it fail, the scheduler's sweep settles those runs.
    private static func settleRunsAfterCommit(of flows: [Flow], in tx: PostgresConnection) {
        var seen: Set<FiringIdentity> = []
        let firings = flows.filter(\.state.isFinal).map { FiringIdentity(jobID: $0.jobID, scheduledFor: $0.scheduledFor) }.filter { seen.insert($0).inserted }
        guard !firings.isEmpty else { return }
        tx.executeAfterCommit(FlowLeasesTable.genericPlans)
        tx.executeAfterCommit(RunsTable.runSettleFirings(jobIDs: firings.map(\.jobID), slots: firings.map(\.scheduledFor)))
    }

    /// What `event` does to a flow and its lease: the answer, and the flow and lease to store
    /// when it changed them. A repeat is answered as the call it repeats left the flow (its state
    /// then, and no holder, since that call ended the lease).
    static func decide(
        _ flow: Flow, _ lease: FlowLease, _ event: FlowLease.Event
    ) -> (outcome: VerbOutcome, stored: (flow: Flow, lease: FlowLease)?) {
        var flow = flow
        var lease = lease
        switch lease.handle(event) {
        case .store(let next):
            flow.state = next.state
            return (.done(flow, next), (flow, next))
        case .repeated, .nothing:
            guard let outcome = lease.lastOutcome else { return (.done(flow, lease), nil) }
            flow.state = outcome
            lease.state = outcome
            lease.holder = nil
            return (.done(flow, lease), nil)
        case .refuse(let refusal):
            return (.refused(refusal), nil)
        }
    }

    private func act(
        on id: Int64, _ event: (Timestamp) -> FlowLease.Event, in tx: PostgresConnection
    ) throws -> (outcome: VerbOutcome, changed: Bool) {
        guard let row = try tx.queries([FlowLeasesTable.genericPlans, FlowLeasesTable.leaseForUpdate(id: id, clock: clock)])[1].first else {
            return (.unknownFlow, false)
        }
        let decision = Self.decide(
            try FlowsTable.decode(row), try FlowLeasesTable.decode(row), event(try row.decode(Timestamp.self, column: "now")))
        if let stored = decision.stored {
            // Both with the COMMIT, in its round trip: the row is locked already.
            tx.executeAtCommit(FlowLeasesTable.leaseUpdateMany([(id, stored.lease)]))
            // Given back, or to be retried: a waiting claim looks again (and, for a retry, learns when).
            if stored.lease.state == .unclaimed { tx.executeAtCommit(FlowsTable.flowNotify(FlowNotice(names: [stored.flow.flowName]))) }
            Self.settleRunsAfterCommit(of: [stored.flow], in: tx)
        }
        return (decision.outcome, decision.stored != nil)
    }

    /// Which flows to list; nil fields do not filter.
    public struct Query: Sendable, Equatable {
        public var state: FlowState?
        public var jobID: String?
        public var flowName: String?
        /// Held by this worker now (claimed by it).
        public var worker: String?
        public var limit = 100
        public var offset = 0

        public static let maximumLimit = 1000

        public init(
            state: FlowState? = nil, jobID: String? = nil, flowName: String? = nil, worker: String? = nil, limit: Int = 100, offset: Int = 0
        ) {
            self.state = state
            self.jobID = jobID
            self.flowName = flowName
            self.worker = worker
            self.limit = limit
            self.offset = offset
        }
    }

    /// A page of matching flows, oldest first, and how many match in all.
    public func flows(_ query: Query) throws -> (flows: [Flow], total: Int) {
        try pool.withConnection { connection in
            let flows = try connection.query(FlowsTable.flowPage(query)).map(FlowsTable.decode)
            let total = try connection.query(FlowsTable.flowCount(query))[0].decode(Int.self, column: "n")
            return (flows, total)
        }
    }

    public func flow(_ id: Int64) throws -> Flow? {
        try pool.withConnection { connection in
            try connection.query(FlowsTable.flowSelect(id: id)).first.map(FlowsTable.decode)
        }
    }

    /// One flow with its lease, as operators see it.
    public func flowWithLease(_ id: Int64) throws -> (Flow, FlowLease)? {
        try pool.withConnection { connection in
            try connection.query(FlowLeasesTable.flowAndLeaseSelect(id: id)).first.map { row in
                (try FlowsTable.decode(row), try FlowLeasesTable.decode(row))
            }
        }
    }

    /// How many flows are in each state and of each name that has any, waiting at most `timeout` for a connection.
    public func countsByState(timeout: Duration) throws -> [(state: FlowState, flowName: String, count: Int)] {
        try pool.withConnection(timeout: timeout) { connection in
            try connection.query(FlowsTable.flowCountByState).map(FlowsTable.decodeCount)
        }
    }
}
