import Postgres

/// The flows that firings posted, for workers and operators to read. (Claiming them is a later
/// issue's flow board; this is its read side.)
public struct FlowBoard: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// Which flows to list; nil fields do not filter.
    public struct Query: Sendable, Equatable {
        public var state: FlowState?
        public var jobID: String?
        public var flowName: String?
        public var limit = 100
        public var offset = 0

        public static let maximumLimit = 1000

        public init(state: FlowState? = nil, jobID: String? = nil, flowName: String? = nil, limit: Int = 100, offset: Int = 0) {
            self.state = state
            self.jobID = jobID
            self.flowName = flowName
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

    /// How many flows are in each state that has any, waiting at most `timeout` for a connection.
    public func countsByState(timeout: Duration) throws -> [(state: FlowState, count: Int)] {
        try pool.withConnection(timeout: timeout) { connection in
            try connection.query(FlowsTable.flowCountByState).map {
                (try $0.decode(FlowState.self, column: "state"), try $0.decode(Int.self, column: "n"))
            }
        }
    }
}
