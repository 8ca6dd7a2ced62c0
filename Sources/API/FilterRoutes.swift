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
    /// Expansions and manual runs hold database connections: at most their share at once.
    let share: ConnectionShare

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
        let rows = try share.run {
            try pool.withConnection { connection in
                // A client that leaves stops its query, rather than letting it run to the timeout.
                let watch = request.cancellation.onCancel { connection.interrupt() }
                defer { watch.remove() }
                return try expander.rows(matching: filter.query, on: connection)
            }
        }
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

/// The share of the API's database connections that work of unbounded length may take: `$filter`
/// expansions and manual runs (which expand their job's filters). One more is refused at once
/// with a 503, so it never holds a worker thread waiting, and the rest of the pool stays free
/// for everything else.
final class ConnectionShare: Sendable {
    private let slots: DispatchSemaphore
    let size: Int

    init(size: Int) {
        self.size = max(1, size)
        slots = DispatchSemaphore(value: self.size)
    }

    func run<T>(_ body: () throws -> T) throws -> T {
        guard slots.wait(timeout: .now()) == .success else {
            throw HTTPError(
                .serviceUnavailable,
                "\(size) filter expansions or manual runs are under way, the most at once (KAIROS_FILTER_CONCURRENCY); try again shortly")
        }
        defer { slots.signal() }
        return try body()
    }
}
