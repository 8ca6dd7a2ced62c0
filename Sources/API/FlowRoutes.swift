import HTTPServer
import Jobs
import JSON

/// `GET /flows`, `GET /flows/{id}` and `GET /flows/summary`: the flows firings posted.
struct FlowRoutes {
    let board: FlowBoard

    func add(to router: inout Router) {
        router.add(.get, KairosAPI.basePath + "/flows", query: ["state", "job_id", "flow_name", "worker", "limit", "offset"], answeringDomainErrors(list))
        router.add(.get, KairosAPI.basePath + "/flows/{id}", query: [], answeringDomainErrors(show))
        router.add(.get, KairosAPI.basePath + "/flows/summary", query: [], answeringDomainErrors(summary))
    }

    /// `GET /flows/summary` → counts by state and flow name, the oldest claimable flow's wait,
    /// retries, expired leases and the workers holding leases (the 100 holding most).
    func summary(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(try board.summary().json)
    }

    /// `GET /flows?state=&job_id=&flow_name=&worker=&limit=&offset=` → `{"flows": [...], "flows_count": N}`.
    func list(_ request: HTTPRequest) throws -> HTTPResponse {
        var state: FlowState?
        if let text = request.queryValue("state") {
            guard let known = FlowState(rawValue: text) else {
                let states = FlowState.allCases.map(\.rawValue).joined(separator: ", ")
                throw HTTPError(.badRequest, "'state': \"\(text)\" is not a flow state; use one of \(states)")
            }
            state = known
        }
        let query = FlowBoard.Query(
            state: state, jobID: request.queryValue("job_id"), flowName: request.queryValue("flow_name"),
            worker: request.queryValue("worker"),
            limit: try request.integer("limit", fallback: 100, range: 1...FlowBoard.Query.maximumLimit),
            offset: try request.integer("offset", fallback: 0, range: 0...Int(Int32.max)))
        let (flows, total) = try board.flows(query)
        return .json(["flows": .array(flows.map(\.json)), "flows_count": .int(Int64(total))])
    }

    /// `GET /flows/{id}` → the flow.
    func show(_ request: HTTPRequest) throws -> HTTPResponse {
        let text = request.parameter("id")
        guard let id = Int64(text), id > 0 else { throw HTTPError(.notFound, "no flow with id \"\(text)\"; flow ids are positive integers") }
        guard let (flow, lease) = try board.flowWithLease(id) else { throw HTTPError(.notFound, "no flow with id \(id)") }
        return .json(.object(FlowBoardRoutes.describe(flow, lease, showingToken: false)))
    }
}
