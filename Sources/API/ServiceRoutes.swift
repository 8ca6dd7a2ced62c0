import HTTPServer
import Jobs
import JSON

/// `GET` and `PUT /service/state`: pause or resume all firing, persisted.
struct ServiceRoutes {
    let store: JobStore

    func add(to router: inout Router) {
        let path = KairosAPI.basePath + "/service/state"
        router.add(.get, path, query: [], answeringDomainErrors { _ in .json(["state": .string(try store.serviceState().rawValue)]) })
        router.add(.put, path, query: ["state"], answeringDomainErrors(set))
    }

    func set(_ request: HTTPRequest) throws -> HTTPResponse {
        let state: ServiceState = try request.choice("state")
        try store.setServiceState(state)
        return .json(["state": .string(state.rawValue)])
    }
}

