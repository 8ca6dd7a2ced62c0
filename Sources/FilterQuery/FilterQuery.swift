import SQLBuilding

/// A `$filter` query: fabric8's json2sql language, parsed into a typed tree that compiles to
/// parameterized SQL.
///
/// ```swift
/// let query = try FilterQuery(parsing: ["table": "versions", "where": ["identifier like": "1.%"]])
/// query.sql.rendered().text   // SELECT * FROM "versions" WHERE "identifier" LIKE $1
/// ```
///
/// Safety comes from the types: every name is an ``SQLIdentifier`` (validated, then quoted),
/// every operator, function and join kind a closed enum whose SQL is a literal, and every value
/// a bound parameter. There is no place for text from the document to become SQL.
public struct FilterQuery: Sendable, Equatable {
    public var table: TableReference
    public var output: Output
    public var distinct: Bool
    public var joins: [Join]
    /// The `where` conditions, ANDed; nil for none.
    public var condition: Condition?
    public var groupBy: [SQLIdentifier]
    public var orderBy: [SortKey]
    public var limit: Int64?
    public var offset: Int64?

    public init(
        table: TableReference, output: Output = .columns([]), distinct: Bool = false, joins: [Join] = [],
        condition: Condition? = nil, groupBy: [SQLIdentifier] = [], orderBy: [SortKey] = [],
        limit: Int64? = nil, offset: Int64? = nil
    ) {
        self.table = table
        self.output = output
        self.distinct = distinct
        self.joins = joins
        self.condition = condition
        self.groupBy = groupBy
        self.orderBy = orderBy
        self.limit = limit
        self.offset = offset
    }

    /// `analyses` or `analyses AS A`.
    public struct TableReference: Sendable, Equatable {
        public var name: SQLIdentifier
        public var alias: SQLIdentifier?

        public init(name: SQLIdentifier, alias: SQLIdentifier? = nil) {
            self.name = name
            self.alias = alias
        }
    }

    /// What the query returns.
    public enum Output: Sendable, Equatable {
        /// The listed columns; an empty list is `*`.
        case columns([SelectItem])
        /// `count: true`: `SELECT COUNT(*)`.
        case count
    }

    /// One entry of `select`: `versions.identifier as version`, `count(distinct name)`.
    public struct SelectItem: Sendable, Equatable {
        public var expression: Expression
        public var alias: SQLIdentifier?

        public init(_ expression: Expression, alias: SQLIdentifier? = nil) {
            self.expression = expression
            self.alias = alias
        }
    }

    /// A column, every column of a table, or an aggregate over a column.
    public enum Expression: Sendable, Equatable {
        case column(SQLIdentifier)
        /// `*`, or `versions.*` with the table.
        case allColumns(of: SQLIdentifier?)
        case aggregate(Aggregate, AggregateArgument)
    }

    /// The aggregate functions a filter may call; nothing else can be called.
    public enum Aggregate: String, Sendable, CaseIterable {
        case count, min, max, sum, avg
    }

    public enum AggregateArgument: Sendable, Equatable {
        /// `count(*)`; only `count` takes it.
        case allRows
        case column(SQLIdentifier)
        case distinct(SQLIdentifier)
    }

    public struct Join: Sendable, Equatable {
        public var kind: JoinKind
        public var table: TableReference
        public var constraint: JoinConstraint

        public init(_ kind: JoinKind = .inner, _ table: TableReference, _ constraint: JoinConstraint) {
            self.kind = kind
            self.table = table
            self.constraint = constraint
        }
    }

    public enum JoinKind: String, Sendable, CaseIterable {
        case inner, left, right, full
    }

    public enum JoinConstraint: Sendable, Equatable {
        /// `on`: each pair is `left = right`, ANDed.
        case on([ColumnPair])
        /// `using`: the columns both tables share.
        case using([SQLIdentifier])
        /// Neither given: a NATURAL join.
        case natural
    }

    public struct ColumnPair: Sendable, Equatable {
        public var left: SQLIdentifier
        public var right: SQLIdentifier

        public init(_ left: SQLIdentifier, _ right: SQLIdentifier) {
            self.left = left
            self.right = right
        }
    }

    /// `order_by` entry: `started_at DESC NULLS LAST`.
    public struct SortKey: Sendable, Equatable {
        public var expression: Expression
        public var descending: Bool
        /// nil leaves PostgreSQL's default (NULLS LAST ascending, NULLS FIRST descending).
        public var nullsFirst: Bool?

        public init(_ expression: Expression, descending: Bool = false, nullsFirst: Bool? = nil) {
            self.expression = expression
            self.descending = descending
            self.nullsFirst = nullsFirst
        }
    }
}
