import Postgres
import SQLBuilding

/// The flows that firings posted, for workers and operators to read. (Claiming them is a later
/// issue's flow board; this is its read side.)
public struct FlowBoard: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// Which flows to list; nil fields do not filter.
    public struct Query: Sendable, Equatable {
        public var state: String?
        public var jobID: String?
        public var flowName: String?
        public var limit = 100
        public var offset = 0

        public static let maximumLimit = 1000

        public init(state: String? = nil, jobID: String? = nil, flowName: String? = nil, limit: Int = 100, offset: Int = 0) {
            self.state = state
            self.jobID = jobID
            self.flowName = flowName
            self.limit = limit
            self.offset = offset
        }
    }

    /// A page of matching flows, oldest first, and how many match in all.
    public func flows(_ query: Query) throws -> (flows: [Flow], total: Int) {
        // A NULL parameter matches everything, so one statement serves every combination.
        let condition: SQL = """
            (\(query.state)::text IS NULL OR state = \(query.state))
            AND (\(query.jobID)::text IS NULL OR job_id = \(query.jobID))
            AND (\(query.flowName)::text IS NULL OR flow_name = \(query.flowName))
            """
        return try pool.withConnection { connection in
            let flows = try connection.query(
                "SELECT \(Rows.flowColumns) FROM flows WHERE \(condition) ORDER BY id LIMIT \(query.limit) OFFSET \(query.offset)"
            ).map(Rows.flow)
            let total = try connection.query("SELECT count(*) AS n FROM flows WHERE \(condition)")[0].decode(Int.self, column: "n")
            return (flows, total)
        }
    }

    public func flow(_ id: Int64) throws -> Flow? {
        try pool.withConnection { connection in
            try connection.query("SELECT \(Rows.flowColumns) FROM flows WHERE id = \(id)").first.map(Rows.flow)
        }
    }
}
