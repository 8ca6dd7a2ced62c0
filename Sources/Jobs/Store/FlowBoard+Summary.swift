import Chronology
import JSON

/// The flow board at a glance: what an operator's overview shows of it.
extension FlowBoard {
    public struct Summary: Sendable {
        /// The judging time the ages below are measured from.
        public var now: Timestamp
        /// By state and flow name, at most ``countLimit`` of them, in that order: every unfinished
        /// flow, and the final ones posted in the last ``finalWindowHours`` hours.
        public var counts: [(state: FlowState, flowName: String, count: Int)]
        /// More (state, flow name) pairs have flows than ``counts`` lists.
        public var countsTruncated: Bool
        /// Since when the longest-waiting claimable flow has been claimable; nil when none is.
        public var oldestClaimableSince: Timestamp?
        /// Unclaimed flows not yet claimable: waiting out a retry delay.
        public var waitingForRetry: Int
        /// Unfinished flows past their first attempt: back on the board after one (a claim
        /// counts the attempt it starts), or held on a second or later.
        public var retrying: Int
        /// Claimed flows whose lease has run out: their worker is gone or stuck; the next claim sweeps them.
        public var expiredLeases: Int
        /// How many workers hold leases, and the ``holderLimit`` holding most.
        public var holderCount: Int
        public var holders: [(worker: String, flows: Int, earliestExpiry: Timestamp)]

        public var json: JSONValue {
            let counts: [JSONValue] = self.counts.map { count in
                ["state": .string(count.state.rawValue), "flow_name": .string(count.flowName), "count": .int(Int64(count.count))]
            }
            let holders: [JSONValue] = self.holders.map { holder in
                ["worker": .string(holder.worker), "flows": .int(Int64(holder.flows)), "earliest_lease_expiry": .string(holder.earliestExpiry.iso8601)]
            }
            var object: JSONObject = [
                "now": .string(now.iso8601), "counts": .array(counts), "counts_truncated": .bool(countsTruncated),
                "final_window_hours": .int(Int64(FlowBoard.finalWindowHours)),
            ]
            object["oldest_claimable_since"] = oldestClaimableSince.map { .string($0.iso8601) } ?? .null
            object["oldest_claimable_age_seconds"] = oldestClaimableSince.map { .double(Double(max(0, now - $0)) / 1e6) } ?? .null
            object["waiting_for_retry"] = .int(Int64(waitingForRetry))
            object["retrying"] = .int(Int64(retrying))
            object["expired_leases"] = .int(Int64(expiredLeases))
            object["holders_count"] = .int(Int64(holderCount))
            object["holders"] = .array(holders)
            return .object(object)
        }
    }

    /// The most workers a summary names: a board with more shows them through `GET /flows?worker=`.
    public static let holderLimit = 100
    /// The most (state, flow name) pairs a summary counts: flow names are the jobs' to choose,
    /// so there may be any number of them.
    public static let countLimit = 1000
    /// How far back final flows are counted: a retained board may hold millions of them, and a
    /// dashboard asks every few seconds. Unfinished flows are all counted.
    public static let finalWindowHours = 24

    /// The summary, read on one connection in three statements.
    public func summary() throws -> Summary {
        try pool.withConnection { connection in
            var counts = try connection.query(FlowsTable.flowCountSummary(clock: clock, sinceHours: Self.finalWindowHours, limit: Self.countLimit + 1))
                .map(FlowsTable.decodeCount)
            let row = try connection.query(FlowLeasesTable.boardFigures(clock: clock))[0]
            let holders = try connection.query(FlowLeasesTable.holders(limit: Self.holderLimit)).map {
                (try $0.decode(String.self, column: "holder"), try $0.decode(Int.self, column: "n"), try $0.decode(Timestamp.self, column: "earliest_expiry"))
            }
            let truncated = counts.count > Self.countLimit
            counts.removeLast(max(0, counts.count - Self.countLimit))
            return Summary(
                now: try row.decode(Timestamp.self, column: "now"), counts: counts, countsTruncated: truncated,
                oldestClaimableSince: try row.decode(Timestamp?.self, column: "oldest_claimable"),
                waitingForRetry: try row.decode(Int.self, column: "waiting"), retrying: try row.decode(Int.self, column: "retrying"),
                expiredLeases: try row.decode(Int.self, column: "expired"), holderCount: try row.decode(Int.self, column: "holders"),
                holders: holders)
        }
    }
}
