import Dispatch
import FilterQuery
import HTTPServer
import Jobs
import JSON
import Postgres
import SQLBuilding

/// The `$filter` debug endpoints: see the SQL a filter compiles to, and the arguments it would
/// expand to now. Both take the body a flow argument would hold: `{"$filter": {...}, ...extra}`.
struct FilterRoutes {
    let pool: PostgresPool
    let policy: FilterPolicy
    /// Expansions under way hold database connections: at most the policy's share at once.
    let expansions: DispatchSemaphore

    init(pool: PostgresPool, policy: FilterPolicy) {
        self.pool = pool
        self.policy = policy
        expansions = DispatchSemaphore(value: max(1, policy.maximumConcurrentExpansions))
    }

    func add(to router: inout Router) {
        // fabric8's spellings first, then the aliases its clients also used.
        for path in ["/debug-show-select-query", "/debug/show-select-query"] {
            router.add(.post, KairosAPI.basePath + path, query: [], answeringDomainErrors(showSelectQuery))
        }
        for path in ["/debug-expand-filter", "/debug/expand-filter-query"] {
            router.add(.post, KairosAPI.basePath + path, query: [], answeringDomainErrors(expandFilter))
        }
    }

    /// → `{"query": "<SQL with the values written in>", "sql": "<SQL with $1..$n>", "params": [...]}`.
    func showSelectQuery(_ request: HTTPRequest) throws -> HTTPResponse {
        let sql = try filterArgument(request).query.sql
        let (text, parameters) = sql.rendered()
        return .json([
            "query": .string(sql.readableText()), "sql": .string(text),
            "params": .array(FilterQuery.jsonValues(of: parameters)),
        ])
    }

    /// → `{"matched": [{...row, ...extra keys}, ...]}`, read now in a read-only transaction.
    func expandFilter(_ request: HTTPRequest) throws -> HTTPResponse {
        let filter = try filterArgument(request)
        let expander = FilterExpander(policy: policy)
        guard expansions.wait(timeout: .now() + 1) == .success else {
            throw HTTPError(
                .serviceUnavailable,
                "\(policy.maximumConcurrentExpansions) filter expansions are under way, the most at once (KAIROS_FILTER_CONCURRENCY); try again shortly")
        }
        defer { expansions.signal() }
        let rows = try pool.withConnection { try expander.rows(matching: filter.query, on: $0) }
        var budget = OutputBudget(limit: policy.maximumBytes)
        do {
            return .json(["matched": .array(try filter.arguments(from: rows, budget: &budget))])
        } catch {
            throw HTTPError(.badRequest, error.description)
        }
    }

    private func filterArgument(_ request: HTTPRequest) throws -> FilterArgument {
        let body = try request.jsonObjectBody()
        guard let filter = try FilterArgument(.object(body), limits: policy.limits) else {
            throw HTTPError(.badRequest, "the body must hold a \"$filter\" query, such as {\"$filter\": {\"table\": \"versions\"}}")
        }
        return filter
    }
}
