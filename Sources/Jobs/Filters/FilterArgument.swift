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

    /// One argument per row: the row's columns, then the extra keys over them, each counted
    /// against `budget` as it is made.
    ///
    /// - Throws: ``OutputTooLarge`` as soon as the arguments would pass the budget.
    public func arguments(from rows: [JSONObject], budget: inout OutputBudget) throws(OutputTooLarge) -> [JSONValue] {
        var arguments: [JSONValue] = []
        arguments.reserveCapacity(rows.count)
        for row in rows {
            let argument = JSONValue.object(row.merging(extraKeys))
            try budget.spend(argument.compactByteCount + 1)
            arguments.append(argument)
        }
        return arguments
    }
}

/// What one expansion, or one firing, may still produce, in bytes of compact JSON.
public struct OutputBudget: Sendable {
    public let limit: Int
    public private(set) var spent = 0

    public init(limit: Int) { self.limit = limit }

    /// - Throws: ``OutputTooLarge`` when `bytes` more would pass the limit.
    public mutating func spend(_ bytes: Int) throws(OutputTooLarge) {
        guard spent + bytes <= limit else { throw OutputTooLarge(limit: limit) }
        spent += bytes
    }
}

/// An expansion or a firing that would produce more than its ``OutputBudget``.
public struct OutputTooLarge: Error, Sendable, Equatable, CustomStringConvertible {
    public let limit: Int

    public var description: String {
        let size = limit % (1 << 20) == 0 ? "\(limit >> 20) MiB" : "\(limit) bytes"
        return "the expansion would come to more than \(size) of JSON, the most one expansion or firing may produce "
            + "(KAIROS_FILTER_MAX_BYTES); narrow the filter, add a 'limit' or shrink the keys beside '$filter'"
    }
}
