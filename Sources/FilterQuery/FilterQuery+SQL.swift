import JSON
import Postgres

extension FilterQuery {
    /// The query as a statement: names quoted, every value a `$n` parameter.
    ///
    /// ```swift
    /// let (text, parameters) = query.sql.rendered()
    /// query.sql.readableText()   // the same with the values written in, for people
    /// ```
    public var sql: SQL {
        var sql: SQL = "SELECT "
        if distinct { sql += "DISTINCT " }
        switch output {
        case .count: sql += "COUNT(*)"
        case .columns(let items) where items.isEmpty: sql += "*"
        case .columns(let items): sql += SQL.joined(items.map(\.sql), separator: ", ")
        }
        sql += " FROM \(table.sql)"
        for join in joins { sql += " \(join.sql)" }
        if let condition { sql += " WHERE \(condition.sql)" }
        if !groupBy.isEmpty {
            sql += " GROUP BY " + SQL.joined(groupBy.map { "\($0)" }, separator: ", ")
        }
        if !orderBy.isEmpty {
            sql += " ORDER BY " + SQL.joined(orderBy.map(\.sql), separator: ", ")
        }
        if let limit { sql += " LIMIT \(limit)" }
        if let offset { sql += " OFFSET \(offset)" }
        return sql
    }
}

extension FilterQuery.TableReference {
    var sql: SQL {
        guard let alias else { return "\(name)" }
        return "\(name) AS \(alias)"
    }
}

extension FilterQuery.SelectItem {
    var sql: SQL {
        guard let alias else { return expression.sql }
        return "\(expression.sql) AS \(alias)"
    }
}

extension FilterQuery.Expression {
    var sql: SQL {
        switch self {
        case .column(let name): return "\(name)"
        case .allColumns(of: nil): return "*"
        case .allColumns(of: let table?): return "\(table).*"
        case .aggregate(let function, let argument): return "\(function.sql)(\(argument.sql))"
        }
    }
}

extension FilterQuery.Aggregate {
    var sql: SQL {
        switch self {
        case .count: "count"
        case .min: "min"
        case .max: "max"
        case .sum: "sum"
        case .avg: "avg"
        }
    }
}

extension FilterQuery.AggregateArgument {
    var sql: SQL {
        switch self {
        case .allRows: "*"
        case .column(let name): "\(name)"
        case .distinct(let name): "DISTINCT \(name)"
        }
    }
}

extension FilterQuery.Join {
    var sql: SQL {
        switch constraint {
        case .natural:
            return "NATURAL \(kind.sql) \(table.sql)"
        case .on(let pairs):
            let conditions = pairs.map { pair -> SQL in "\(pair.left) = \(pair.right)" }
            return "\(kind.sql) \(table.sql) ON " + SQL.joined(conditions, separator: " AND ")
        case .using(let columns):
            return "\(kind.sql) \(table.sql) USING (" + SQL.joined(columns.map { "\($0)" }, separator: ", ") + ")"
        }
    }
}

extension FilterQuery.JoinKind {
    var sql: SQL {
        switch self {
        case .inner: "JOIN"
        case .left: "LEFT JOIN"
        case .right: "RIGHT JOIN"
        case .full: "FULL JOIN"
        }
    }
}

extension FilterQuery.SortKey {
    var sql: SQL {
        var sql = expression.sql
        if descending { sql += " DESC" }
        switch nullsFirst {
        case true?: sql += " NULLS FIRST"
        case false?: sql += " NULLS LAST"
        case nil: break
        }
        return sql
    }
}

extension FilterQuery.Condition {
    var sql: SQL {
        switch self {
        case .all(let conditions):
            return SQL.joined(conditions.map(\.sql), separator: " AND ")
        case .group(let junction, let members):
            let separator: SQL = junction == .or ? ") OR (" : ") AND ("
            return "((" + SQL.joined(members.map(\.sql), separator: separator) + "))"
        case .compare(let column, let comparison, let operand):
            return "\(column) \(comparison.sql) \(operand.sql)"
        case .membership(let column, let negated, let members):
            return "\(column) \(negated ? "NOT IN" : "IN" as SQL) (\(members.sql))"
        case .null(let column, let negated):
            return negated ? "\(column) IS NOT NULL" : "\(column) IS NULL"
        case .truth(let column, let negated, let value):
            switch (negated, value) {
            case (false, true): return "\(column) IS TRUE"
            case (false, false): return "\(column) IS FALSE"
            case (true, true): return "\(column) IS NOT TRUE"
            case (true, false): return "\(column) IS NOT FALSE"
            }
        }
    }
}

extension FilterQuery.ComparisonOperator {
    var sql: SQL {
        switch self {
        case .equal: "="
        case .notEqual: "<>"
        case .less: "<"
        case .lessOrEqual: "<="
        case .greater: ">"
        case .greaterOrEqual: ">="
        case .like: "LIKE"
        case .notLike: "NOT LIKE"
        case .ilike: "ILIKE"
        case .notIlike: "NOT ILIKE"
        }
    }
}

extension FilterQuery.Operand {
    var sql: SQL {
        switch self {
        case .value(let literal): "\(literal)"
        case .column(let name): "\(name)"
        case .subquery(let query): "(\(query.sql))"
        }
    }
}

extension FilterQuery.Members {
    var sql: SQL {
        switch self {
        case .list(let literals): SQL.joined(literals.map { "\($0)" }, separator: ", ")
        case .subquery(let query): query.sql
        }
    }
}

extension FilterQuery {
    /// The values bound to `$1...$n`, as the JSON they came from: what the debug endpoint shows.
    public var parameterValues: [JSONValue] {
        sql.rendered().parameters.map { parameter in
            guard let text = parameter.text else { return .null }
            switch parameter.type {
            case .int8: return Int64(text).map(JSONValue.int) ?? .decimal(text)
            case .float8: return Double(text).map(JSONValue.double) ?? .string(text)
            case .numeric: return .decimal(text)
            case .bool: return .bool(text == "t")
            default: return .string(text)
            }
        }
    }
}
