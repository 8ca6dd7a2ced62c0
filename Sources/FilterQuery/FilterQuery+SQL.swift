import JSON
import SQLBuilding

extension FilterQuery {
    /// The query as a statement: names quoted, every value a `$n` parameter.
    ///
    /// ```swift
    /// let (text, parameters) = query.sql.rendered()
    /// query.sql.readableText()   // the same with the values written in, for people
    /// ```
    public var sql: SQL {
        var sql = SQL.empty
        write(into: &sql)
        return sql
    }

    /// The values bound to `$1...$n`, as the JSON they came from: what the debug endpoint shows.
    public var parameterValues: [JSONValue] { Self.jsonValues(of: sql.rendered().parameters) }

    /// Bound values of a compiled filter as the JSON they came from.
    public static func jsonValues(of parameters: [SQLValue]) -> [JSONValue] {
        parameters.map { parameter in
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

    // Each part writes itself onto one statement, so a compile allocates no fragments.
    func write(into sql: inout SQL) {
        sql.append("SELECT ")
        if distinct { sql.append("DISTINCT ") }
        switch output {
        case .count:
            sql.append("COUNT(*)")
        case .columns(let items) where items.isEmpty:
            sql.append("*")
        case .columns(let items):
            for (index, item) in items.enumerated() {
                if index > 0 { sql.append(", ") }
                item.write(into: &sql)
            }
        }
        sql.append(" FROM ")
        table.write(into: &sql)
        for join in joins {
            sql.append(" ")
            join.write(into: &sql)
        }
        if let condition {
            sql.append(" WHERE ")
            condition.write(into: &sql)
        }
        for (index, column) in groupBy.enumerated() {
            sql.append(index == 0 ? " GROUP BY " : ", ")
            sql.append(column)
        }
        for (index, key) in orderBy.enumerated() {
            sql.append(index == 0 ? " ORDER BY " : ", ")
            key.write(into: &sql)
        }
        if let limit {
            sql.append(" LIMIT ")
            sql.append(value: limit)
        }
        if let offset {
            sql.append(" OFFSET ")
            sql.append(value: offset)
        }
    }
}

extension FilterQuery.TableReference {
    func write(into sql: inout SQL) {
        sql.append(name)
        if let alias {
            sql.append(" AS ")
            sql.append(alias)
        }
    }
}

extension FilterQuery.SelectItem {
    func write(into sql: inout SQL) {
        expression.write(into: &sql)
        if let alias {
            sql.append(" AS ")
            sql.append(alias)
        }
    }
}

extension FilterQuery.Expression {
    func write(into sql: inout SQL) {
        switch self {
        case .column(let name):
            sql.append(name)
        case .allColumns(of: nil):
            sql.append("*")
        case .allColumns(of: let table?):
            sql.append(table)
            sql.append(".*")
        case .aggregate(let function, let argument):
            sql.append(function.sql)
            sql.append("(")
            switch argument {
            case .allRows: sql.append("*")
            case .column(let name): sql.append(name)
            case .distinct(let name):
                sql.append("DISTINCT ")
                sql.append(name)
            }
            sql.append(")")
        }
    }
}

extension FilterQuery.Aggregate {
    var sql: StaticString {
        switch self {
        case .count: "count"
        case .min: "min"
        case .max: "max"
        case .sum: "sum"
        case .avg: "avg"
        }
    }
}

extension FilterQuery.Join {
    func write(into sql: inout SQL) {
        if case .natural = constraint { sql.append("NATURAL ") }
        sql.append(kind.sql)
        sql.append(" ")
        table.write(into: &sql)
        switch constraint {
        case .natural:
            break
        case .on(let pairs):
            for (index, pair) in pairs.enumerated() {
                sql.append(index == 0 ? " ON " : " AND ")
                sql.append(pair.left)
                sql.append(" = ")
                sql.append(pair.right)
            }
        case .using(let columns):
            sql.append(" USING (")
            for (index, column) in columns.enumerated() {
                if index > 0 { sql.append(", ") }
                sql.append(column)
            }
            sql.append(")")
        }
    }
}

extension FilterQuery.JoinKind {
    var sql: StaticString {
        switch self {
        case .inner: "JOIN"
        case .left: "LEFT JOIN"
        case .right: "RIGHT JOIN"
        case .full: "FULL JOIN"
        }
    }
}

extension FilterQuery.SortKey {
    func write(into sql: inout SQL) {
        expression.write(into: &sql)
        if descending { sql.append(" DESC") }
        switch nullsFirst {
        case true?: sql.append(" NULLS FIRST")
        case false?: sql.append(" NULLS LAST")
        case nil: break
        }
    }
}

extension FilterQuery.Condition {
    func write(into sql: inout SQL) {
        switch self {
        case .all(let conditions):
            for (index, condition) in conditions.enumerated() {
                if index > 0 { sql.append(" AND ") }
                condition.write(into: &sql)
            }
        case .group(let junction, let members):
            sql.append("((")
            for (index, member) in members.enumerated() {
                if index > 0 { sql.append(junction == .or ? ") OR (" : ") AND (") }
                member.write(into: &sql)
            }
            sql.append("))")
        case .compare(let column, let comparison, let operand):
            sql.append(column)
            sql.append(" ")
            sql.append(comparison.sql)
            sql.append(" ")
            switch operand {
            case .value(let literal): sql.append(value: literal)
            case .column(let name): sql.append(name)
            case .subquery(let query):
                sql.append("(")
                query.write(into: &sql)
                sql.append(")")
            }
        case .membership(let column, let negated, .list(let literals)) where literals.isEmpty:
            // SQL has no empty list: `IN ()` is a syntax error. `x IN ()` is false and `x NOT IN
            // ()` true, even for NULL; the column stays in the text so a typo in it is still an error.
            sql.append(negated ? "(TRUE OR " : "(FALSE AND ")
            sql.append(column)
            sql.append(" IS NULL)")
        case .membership(let column, let negated, let members):
            sql.append(column)
            sql.append(negated ? " NOT IN (" : " IN (")
            switch members {
            case .list(let literals):
                for (index, literal) in literals.enumerated() {
                    if index > 0 { sql.append(", ") }
                    sql.append(value: literal)
                }
            case .subquery(let query):
                query.write(into: &sql)
            }
            sql.append(")")
        case .null(let column, let negated):
            sql.append(column)
            sql.append(negated ? " IS NOT NULL" : " IS NULL")
        case .truth(let column, let negated, let value):
            sql.append(column)
            switch (negated, value) {
            case (false, true): sql.append(" IS TRUE")
            case (false, false): sql.append(" IS FALSE")
            case (true, true): sql.append(" IS NOT TRUE")
            case (true, false): sql.append(" IS NOT FALSE")
            }
        }
    }
}

extension FilterQuery.ComparisonOperator {
    var sql: StaticString {
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
