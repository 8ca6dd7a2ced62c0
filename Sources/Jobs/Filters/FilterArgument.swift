import FilterQuery
import JSON

/// A flow argument that is a query, `{"$filter": {...}, "force": true}`: it stands for one
/// argument per matching row, each row merged with the other keys.
public struct FilterArgument: Sendable, Equatable {
    public let query: FilterQuery
    /// The keys beside `$filter`; on a clash with a row's column they win, as in fabric8.
    public let extraKeys: JSONObject

    /// Nil when `argument` is not an object holding `$filter`; it is then an argument as it is.
    ///
    /// - Throws: ``FilterError`` when the query is malformed or breaks `limits`.
    public init?(_ argument: JSONValue, limits: FilterLimits) throws(FilterError) {
        guard var object = argument.objectValue, let document = object.removeValue(forKey: "$filter") else { return nil }
        query = try FilterQuery(parsing: document, limits: limits)
        extraKeys = object
    }

    /// One argument per row: the row's columns, then the extra keys over them.
    public func arguments(from rows: [JSONObject]) -> [JSONValue] {
        rows.map { .object($0.merging(extraKeys)) }
    }
}
