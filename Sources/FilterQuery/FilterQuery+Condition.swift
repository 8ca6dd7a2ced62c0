import SQLBuilding

extension FilterQuery {
    /// A `where` tree: an object's entries are ANDed; `$or` and `$and` groups combine objects.
    // Not indirect: lists already box the nested conditions, and only a sub-select needs a box
    // of its own, which saves an allocation per condition.
    public enum Condition: Sendable, Equatable {
        /// The entries of one object: `A AND B AND C`.
        case all([Condition])
        /// `"$or": [A, B]` → `((A) OR (B))`, `"$and": [A, B]` → `((A) AND (B))`.
        case group(Junction, [Condition])
        /// `column op operand`.
        case compare(SQLIdentifier, ComparisonOperator, Operand)
        /// `column IN (…)` or `column NOT IN (…)`.
        case membership(SQLIdentifier, negated: Bool, Members)
        /// `column IS NULL` or `column IS NOT NULL`.
        case null(SQLIdentifier, negated: Bool)
        /// `column IS TRUE`, `column IS NOT FALSE`, ...
        case truth(SQLIdentifier, negated: Bool, Bool)
    }

    public enum Junction: String, Sendable {
        case or = "$or"
        case and = "$and"
    }

    /// The binary comparisons; `in`, `not in`, `is` and `is not` are conditions of their own.
    public enum ComparisonOperator: String, Sendable, CaseIterable {
        case equal = "="
        case notEqual = "<>"
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case like = "LIKE"
        case notLike = "NOT LIKE"
        case ilike = "ILIKE"
        case notIlike = "NOT ILIKE"

        var isPatternMatch: Bool { [.like, .notLike, .ilike, .notIlike].contains(self) }
    }

    /// The right-hand side of a comparison.
    public enum Operand: Sendable, Equatable {
        case value(Literal)
        /// `"$A.started_at"`: another column, for correlated sub-selects.
        case column(SQLIdentifier)
        /// `{"$filter": …}`: a sub-select returning one value.
        indirect case subquery(FilterQuery)
    }

    /// What `IN` tests against.
    public enum Members: Sendable, Equatable {
        case list([Literal])
        indirect case subquery(FilterQuery)
    }

    /// A value from the document, always sent as a bound parameter.
    public enum Literal: Sendable, Equatable, SQLBindable {
        case string(String)
        case integer(Int64)
        case double(Double)
        /// A JSON number too long for 64 bits, kept as its exact digits and sent as `numeric`.
        case decimal(String)
        case bool(Bool)

        public var sqlValue: SQLValue {
            switch self {
            // Unknown type, like a quoted literal: the server reads it as the column's type, so
            // "2017-04-01 20:00:00" compares with a timestamp and "1.7.1" with text.
            case .string(let text): return text.sqlValue
            case .integer(let number): return number.sqlValue
            case .double(let number): return number.sqlValue
            case .decimal(let digits): return SQLValue(type: .numeric, text: digits)
            case .bool(let flag): return flag.sqlValue
            }
        }
    }
}
