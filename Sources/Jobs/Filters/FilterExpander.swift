import FilterQuery
import JSON
import Postgres

/// Runs `$filter` queries under a ``FilterPolicy``: read-only, with a statement timeout, and
/// refusing more rows than the policy allows.
public struct FilterExpander: Sendable {
    public let policy: FilterPolicy

    public init(policy: FilterPolicy) { self.policy = policy }

    /// The rows `query` matches, as JSON objects (timestamps ISO 8601 UTC, numerics exact, jsonb
    /// as JSON, arrays as arrays).
    ///
    /// Inside a transaction, such as a firing's, the query runs in a read-only savepoint, so
    /// its failure leaves the transaction usable; on an idle connection, in a read-only
    /// transaction of its own.
    ///
    /// - Throws: ``FilterExecutionError`` for what the filter's author can fix: an unknown column,
    ///   a type mismatch, a timeout, too many rows. Other ``PostgresError``s pass through.
    public func rows(matching query: FilterQuery, on connection: PostgresConnection) throws -> [JSONObject] {
        let cap = policy.maximumRows
        // Rows arrive one at a time and are counted as they come, so neither too many rows nor
        // too many bytes of them are ever held: one row past the cap tells "exactly at the cap"
        // from "over it", and rows larger in all than the output cap could only make an
        // expansion past it (their JSON is at least as long as their text).
        var objects: [JSONObject] = []
        var bytes = 0
        // On a connection of its own (the debug endpoint), a read stopped at a cap closes the
        // connection, so the rest of the result costs nothing; inside a firing's transaction,
        // which must go on, the rest is read and dropped.
        let stopping: PostgresConnection.Stopping = connection.isIdle ? .closing : .draining
        do {
            try connection.withReadOnlyScope(timeout: policy.statementTimeout) { scope in
                try scope.forEachRow("SELECT * FROM (\(query.sql)) AS filtered LIMIT \(Int64(cap) + 1)", stopping: stopping) { row in
                    guard objects.count < cap else {
                        throw FilterExecutionError(
                            message: "the filter matches more than \(cap) rows, the most one expansion may post; narrow its 'where' or add a 'limit'")
                    }
                    bytes += row.byteCount
                    guard bytes <= policy.maximumBytes else { throw OutputTooLarge(limit: policy.maximumBytes) }
                    objects.append(row.jsonObject())
                }
            }
        } catch let error as PostgresError {
            throw FilterExecutionError(error, timeout: policy.statementTimeout) ?? error
        }
        return objects
    }
}

/// A filter query PostgreSQL refused for a reason in the filter itself; reported as a 400 to
/// API clients and as the error of a failed firing.
public struct FilterExecutionError: Error, Sendable, Equatable, CustomStringConvertible, CausedError {
    public let message: String
    /// The database's error, when it was one.
    public let cause: PostgresError?

    public init(message: String) {
        self.message = message
        cause = nil
    }

    public var underlying: (any Error)? { cause }

    public static func == (lhs: FilterExecutionError, rhs: FilterExecutionError) -> Bool { lhs.message == rhs.message }

    /// The client's fault, or nil when the error is the database's (connection, resources,
    /// internal) and should be reported as such.
    init?(_ error: PostgresError, timeout: Duration) {
        guard error.kind == .server, let state = error.sqlState else { return nil }
        cause = error
        if error.isQueryCanceled {
            message = "the filter query ran longer than the \(timeout) statement timeout; narrow it or add an index"
            return
        }
        // 21 cardinality (a sub-select returning two rows), 22 data (a value of the wrong
        // type), 42 syntax and access (unknown column, ambiguous name, no permission),
        // 54 program limits (a statement too complex).
        guard ["21", "22", "42", "54"].contains(String(state.prefix(2))) else { return nil }
        message = "the database refused the filter query: \(error.message)" + (error.hint.map { " (\($0))" } ?? "")
    }

    public var description: String { message }
}
