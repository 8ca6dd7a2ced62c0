import JSON
import Postgres

extension FilterQuery {
    /// Parses the value of a `$filter` key, checking it against `limits`.
    ///
    /// ```swift
    /// try FilterQuery(parsing: ["table": "analyses AS A", "where": ["A.finished_at": .null]])
    /// try FilterQuery(parsing: ["table": "analyses", "joins": [["table": "versions", "on": "id"]]])
    /// // FilterError: $filter.joins[0].on: expected an object of column pairs, such as {"a.id": "b.a_id"}, not a string
    /// ```
    ///
    /// - Throws: ``FilterError`` with the path of the first problem found.
    public init(parsing document: JSONValue, limits: FilterLimits = .standard) throws(FilterError) {
        // Checked first, so nothing larger is walked.
        let size = document.serialized().utf8.count
        guard size <= limits.maximumDocumentBytes else {
            throw FilterError(
                path: "$filter", message: "the document is \(size) bytes; at most \(limits.maximumDocumentBytes) are accepted")
        }
        var parser = FilterParser(limits: limits)
        self = try parser.query(document, at: "$filter", depth: 0)
    }

    /// The keys a `$filter` object may hold.
    public static let keys = ["table", "select", "distinct", "count", "joins", "where", "order_by", "group_by", "limit", "offset"]
}

/// The state of one parse: the limits, and the values counted so far against the parameter limit.
struct FilterParser {
    let limits: FilterLimits
    private var parameters = 0

    init(limits: FilterLimits) { self.limits = limits }

    mutating func query(_ json: JSONValue, at path: String, depth: Int) throws(FilterError) -> FilterQuery {
        guard let object = json.objectValue else {
            throw FilterError(path: path, message: "expected an object such as {\"table\": \"versions\"}, not \(json.kindDescription)")
        }
        for key in object.keys where !FilterQuery.keys.contains(key) {
            throw FilterError(
                path: path, message: "unknown key \"\(key)\"; use \(FilterQuery.keys.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        guard let tableValue = object["table"] else {
            throw FilterError(path: path, message: "'table' is required: the table to read, such as \"versions\" or \"analyses AS A\"")
        }
        var query = FilterQuery(table: try table(tableValue, at: path + ".table"))

        let counting = try flag(object["count"], at: path + ".count")
        query.distinct = try flag(object["distinct"], at: path + ".distinct")
        if counting {
            // As json2sql: COUNT(*) is the whole select list.
            if object["select"] != nil {
                throw FilterError(path: path + ".count", message: "'count' cannot be combined with 'select'; write \"select\": \"count(*)\" instead")
            }
            if query.distinct {
                throw FilterError(path: path + ".count", message: "'count' cannot be combined with 'distinct'; write \"select\": \"count(distinct column)\" instead")
            }
            query.output = .count
        } else if let select = object["select"] {
            query.output = .columns(try strings(select, at: path + ".select").map { item throws(FilterError) in
                try selectItem(item.text, at: item.path)
            })
        }
        if let joins = object["joins"] {
            let list = joins.objectValue != nil ? [joins] : joins.arrayValue
            guard let list else {
                throw FilterError(path: path + ".joins", message: "expected a join object or a list of them, not \(joins.kindDescription)")
            }
            for (index, join) in list.enumerated() {
                query.joins.append(try self.join(join, at: list.count == 1 && joins.objectValue != nil ? path + ".joins" : "\(path).joins[\(index)]"))
            }
        }
        if let whereValue = object["where"] {
            guard let conditions = whereValue.objectValue else {
                throw FilterError(path: path + ".where", message: "expected an object of conditions such as {\"name\": \"serve-static\"}, not \(whereValue.kindDescription)")
            }
            if !conditions.isEmpty {
                query.condition = try self.conditions(conditions, at: path + ".where", depth: depth, groupDepth: 0)
            }
        }
        if let group = object["group_by"] {
            query.groupBy = try strings(group, at: path + ".group_by").map { item throws(FilterError) in
                try identifier(item.text, at: item.path)
            }
        }
        if let order = object["order_by"] {
            query.orderBy = try strings(order, at: path + ".order_by").map { item throws(FilterError) in
                try sortKey(item.text, at: item.path)
            }
        }
        query.limit = try count(object["limit"], at: path + ".limit")
        query.offset = try count(object["offset"], at: path + ".offset")
        return query
    }

    // MARK: Tables, columns, expressions

    private func table(_ json: JSONValue, at path: String) throws(FilterError) -> FilterQuery.TableReference {
        guard let text = json.stringValue else {
            throw FilterError(path: path, message: "expected a table name such as \"versions\" or \"analyses AS A\", not \(json.kindDescription)")
        }
        let words = Self.words(text)
        let reference: FilterQuery.TableReference
        switch words.count {
        case 1:
            reference = .init(name: try identifier(words[0], at: path))
        case 2:
            reference = .init(name: try identifier(words[0], at: path), alias: try identifier(words[1], at: path, single: true))
        case 3 where words[1].lowercased() == "as":
            reference = .init(name: try identifier(words[0], at: path), alias: try identifier(words[2], at: path, single: true))
        default:
            throw FilterError(path: path, message: "\"\(text)\" is not a table; write \"versions\" or \"analyses AS A\"")
        }
        if let allowed = limits.allowedTables, !allowed.contains(reference.name.description) {
            throw FilterError(
                path: path, message: "table \"\(reference.name)\" is not one a filter may read; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        return reference
    }

    /// A name, or a dotted name when `single` is false (`versions.identifier`, `public.versions`).
    private func identifier(_ text: String, at path: String, single: Bool = false) throws(FilterError) -> SQLIdentifier {
        do {
            return single ? try SQLIdentifier(validating: text) : try SQLIdentifier(qualified: text)
        } catch {
            throw FilterError(path: path, message: error.description)
        }
    }

    private func selectItem(_ text: String, at path: String) throws(FilterError) -> FilterQuery.SelectItem {
        var words = Self.words(text)
        var alias: SQLIdentifier?
        if words.count >= 3, words[words.count - 2].lowercased() == "as" {
            alias = try identifier(words[words.count - 1], at: path, single: true)
            words.removeLast(2)
        }
        return FilterQuery.SelectItem(try expression(words.joined(separator: " "), at: path, allowsStar: true), alias: alias)
    }

    /// `col`, `t.col`, `*`, `t.*`, `count(*)`, `count(distinct col)`, `max(col)`.
    private func expression(_ text: String, at path: String, allowsStar: Bool) throws(FilterError) -> FilterQuery.Expression {
        if text == "*" || text.hasSuffix(".*") {
            guard allowsStar else { throw FilterError(path: path, message: "\"\(text)\" can only be selected, not sorted by") }
            return .allColumns(of: text == "*" ? nil : try identifier(String(text.dropLast(2)), at: path))
        }
        guard let open = text.firstIndex(of: "(") else { return .column(try identifier(text, at: path)) }
        let functionName = text[..<open].trimmingWhitespace().lowercased()
        guard let function = FilterQuery.Aggregate(rawValue: functionName) else {
            throw FilterError(
                path: path, message: "\"\(functionName)\" is not a function a filter may call; use \(FilterQuery.Aggregate.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard text.hasSuffix(")") else {
            throw FilterError(path: path, message: "\"\(text)\" is missing its closing parenthesis")
        }
        let inner = text[text.index(after: open)..<text.index(before: text.endIndex)].trimmingWhitespace()
        if inner == "*" {
            guard function == .count else { throw FilterError(path: path, message: "only count takes *, not \(function.rawValue)") }
            return .aggregate(function, .allRows)
        }
        let innerWords = Self.words(inner)
        if innerWords.count == 2, innerWords[0].lowercased() == "distinct" {
            return .aggregate(function, .distinct(try identifier(innerWords[1], at: path)))
        }
        return .aggregate(function, .column(try identifier(inner, at: path)))
    }

    /// `col`, `col DESC`, `count(*) desc nulls last`.
    private func sortKey(_ text: String, at path: String) throws(FilterError) -> FilterQuery.SortKey {
        var words = Self.words(text)
        var nullsFirst: Bool?
        if words.count >= 3, words[words.count - 2].lowercased() == "nulls" {
            switch words[words.count - 1].lowercased() {
            case "first": nullsFirst = true
            case "last": nullsFirst = false
            default: throw FilterError(path: path, message: "\"\(text)\": write NULLS FIRST or NULLS LAST")
            }
            words.removeLast(2)
        }
        var descending = false
        if words.count >= 2, ["asc", "desc"].contains(words[words.count - 1].lowercased()) {
            descending = words.removeLast().lowercased() == "desc"
        }
        return FilterQuery.SortKey(
            try expression(words.joined(separator: " "), at: path, allowsStar: false), descending: descending, nullsFirst: nullsFirst)
    }

    // MARK: Joins

    private func join(_ json: JSONValue, at path: String) throws(FilterError) -> FilterQuery.Join {
        guard let object = json.objectValue else {
            throw FilterError(path: path, message: "expected a join object such as {\"table\": \"versions\", \"on\": {\"analyses.version_id\": \"versions.id\"}}, not \(json.kindDescription)")
        }
        let accepted = ["table", "on", "using", "type", "join_type"]
        for key in object.keys where !accepted.contains(key) {
            throw FilterError(path: path, message: "unknown key \"\(key)\"; use \(accepted.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        guard let tableValue = object["table"] else {
            throw FilterError(path: path, message: "'table' is required: the table to join")
        }
        let table = try table(tableValue, at: path + ".table")
        if object["type"] != nil, object["join_type"] != nil {
            throw FilterError(path: path, message: "give 'type' or 'join_type', not both")
        }
        let kind = try joinKind(object["type"] ?? object["join_type"], at: path + (object["join_type"] != nil ? ".join_type" : ".type"))
        switch (object["on"], object["using"]) {
        case (nil, nil):
            return FilterQuery.Join(kind, table, .natural)
        case (let on?, nil):
            guard let pairs = on.objectValue, !pairs.isEmpty else {
                throw FilterError(path: path + ".on", message: "expected an object of column pairs, such as {\"a.id\": \"b.a_id\"}, not \(on.kindDescription == "an object" ? "an empty object" : on.kindDescription)")
            }
            var columnPairs: [FilterQuery.ColumnPair] = []
            for (left, right) in pairs {
                let pairPath = "\(path).on[\"\(left)\"]"
                guard let rightName = right.stringValue else {
                    throw FilterError(path: pairPath, message: "expected the name of the column to match, not \(right.kindDescription)")
                }
                columnPairs.append(.init(try identifier(left, at: pairPath), try identifier(rightName, at: pairPath)))
            }
            return FilterQuery.Join(kind, table, .on(columnPairs))
        case (nil, let using?):
            let columns = try strings(using, at: path + ".using").map { item throws(FilterError) in
                try identifier(item.text, at: item.path, single: true)
            }
            guard !columns.isEmpty else { throw FilterError(path: path + ".using", message: "expected at least one column") }
            return FilterQuery.Join(kind, table, .using(columns))
        case (.some, .some):
            throw FilterError(path: path, message: "give 'on' or 'using', not both")
        }
    }

    /// `inner`, `left`, `right`, `full`, and json2sql's `join`, `left_join`, `left outer join`, ...
    private func joinKind(_ json: JSONValue?, at path: String) throws(FilterError) -> FilterQuery.JoinKind {
        guard let json else { return .inner }
        let spelling = json.stringValue ?? ""
        let words = spelling.lowercased().split(whereSeparator: { $0 == "_" || $0 == " " })
            .filter { $0 != "join" && $0 != "outer" }
        switch words.count {
        case 0 where json.stringValue != nil: return .inner
        case 1: if let kind = FilterQuery.JoinKind(rawValue: String(words[0])) { return kind }
        default: break
        }
        throw FilterError(path: path, message: "\(json.serialized()) is not a join type; use \"inner\", \"left\", \"right\" or \"full\"")
    }

    // MARK: Conditions

    /// An object of conditions: its entries ANDed.
    private mutating func conditions(_ object: JSONObject, at path: String, depth: Int, groupDepth: Int) throws(FilterError) -> FilterQuery.Condition {
        var conditions: [FilterQuery.Condition] = []
        for (key, value) in object {
            let entryPath = "\(path)[\"\(key)\"]"
            if let junction = FilterQuery.Junction(rawValue: key) {
                conditions.append(try group(junction, value, at: entryPath, depth: depth, groupDepth: groupDepth + 1))
            } else {
                conditions.append(try condition(key, value, at: entryPath, depth: depth))
            }
        }
        return .all(conditions)
    }

    private mutating func group(_ junction: FilterQuery.Junction, _ json: JSONValue, at path: String, depth: Int, groupDepth: Int) throws(FilterError) -> FilterQuery.Condition {
        guard groupDepth <= limits.maximumGroupDepth else {
            throw FilterError(path: path, message: "'$or'/'$and' groups nest deeper than \(limits.maximumGroupDepth)")
        }
        guard let members = json.arrayValue, !members.isEmpty else {
            throw FilterError(path: path, message: "expected a non-empty list of condition objects, such as [{\"a\": 1}, {\"b\": 2}], not \(json.arrayValue == nil ? json.kindDescription : "an empty list")")
        }
        var conditions: [FilterQuery.Condition] = []
        for (index, member) in members.enumerated() {
            guard let object = member.objectValue, !object.isEmpty else {
                throw FilterError(path: "\(path)[\(index)]", message: "expected a non-empty object of conditions, not \(member.objectValue == nil ? member.kindDescription : "an empty object")")
            }
            conditions.append(try self.conditions(object, at: "\(path)[\(index)]", depth: depth, groupDepth: groupDepth))
        }
        return .group(junction, conditions)
    }

    /// One `"column op": value` entry.
    private mutating func condition(_ key: String, _ value: JSONValue, at path: String, depth: Int) throws(FilterError) -> FilterQuery.Condition {
        let words = Self.words(key)
        guard let columnName = words.first else {
            throw FilterError(path: path, message: "expected a column, optionally followed by an operator, such as \"started_at >\"")
        }
        let column = try identifier(columnName, at: path)
        let operatorText = words.dropFirst().joined(separator: " ").lowercased()
        let op: WhereOperator?
        if operatorText.isEmpty {
            op = nil
        } else if let known = WhereOperator(rawValue: operatorText == "!=" ? "<>" : operatorText) {
            op = known
        } else {
            throw FilterError(
                path: path, message: "\"\(words.dropFirst().joined(separator: " "))\" is not an operator; use \(WhereOperator.spellings)")
        }
        let spelled = op.map { "'\($0.rawValue)'" } ?? "a bare column"

        switch value {
        case .null:
            switch op {
            case nil, .equal?, .is?: return .null(column, negated: false)
            case .notEqual?, .isNot?: return .null(column, negated: true)
            default: throw FilterError(path: path, message: "null cannot be compared with \(spelled); use \"\(columnName) is\": null or \"\(columnName) is not\": null")
            }
        case .array(let elements):
            switch op {
            case nil, .equal?, .in?: return .membership(column, negated: false, .list(try list(elements, at: path)))
            case .notEqual?, .notIn?: return .membership(column, negated: true, .list(try list(elements, at: path)))
            default: throw FilterError(path: path, message: "a list can only be used with 'in' or 'not in', not \(spelled)")
            }
        case .object(let object):
            guard object.count == 1, let document = object["$filter"] else {
                throw FilterError(path: path, message: "an object value must be a sub-select {\"$filter\": {...}}; values are strings, numbers, booleans, null or lists")
            }
            let subPath = path + ".$filter"
            guard depth < limits.maximumSubselectDepth else {
                throw FilterError(path: subPath, message: "sub-selects nest deeper than \(limits.maximumSubselectDepth)")
            }
            let subquery = try query(document, at: subPath, depth: depth + 1)
            switch op {
            case nil, .in?: return .membership(column, negated: false, .subquery(subquery))
            case .notIn?: return .membership(column, negated: true, .subquery(subquery))
            case .is?, .isNot?: throw FilterError(path: path, message: "'is' compares with null, true or false, not a sub-select")
            // Every operator left is a binary comparison: a sub-select returning one value.
            default: return .compare(column, op?.comparison ?? .equal, .subquery(subquery))
            }
        case .bool(let flag) where op == .is || op == .isNot:
            return .truth(column, negated: op == .isNot, flag)
        default:
            break
        }
        // A single scalar.
        switch op {
        case .is?, .isNot?:
            throw FilterError(path: path, message: "'is' compares with null, true or false, not \(value.kindDescription); use '=' for other values")
        case .in?, .notIn?:
            throw FilterError(path: path, message: "\(spelled) expects a list or a sub-select {\"$filter\": {...}}, not \(value.kindDescription)")
        default:
            break
        }
        let comparison = op?.comparison ?? .equal
        if let reference = Self.columnReference(value) {
            return .compare(column, comparison, .column(reference))
        }
        if comparison.isPatternMatch, value.stringValue == nil {
            throw FilterError(path: path, message: "\(spelled) expects a string pattern, not \(value.kindDescription)")
        }
        return .compare(column, comparison, .value(try literal(value, at: path)))
    }

    /// `"$A.started_at"`: a `$` and a valid dotted name is a column; any other string is data.
    private static func columnReference(_ value: JSONValue) -> SQLIdentifier? {
        guard let text = value.stringValue, text.hasPrefix("$") else { return nil }
        return try? SQLIdentifier(qualified: String(text.dropFirst()))
    }

    private mutating func list(_ elements: [JSONValue], at path: String) throws(FilterError) -> [FilterQuery.Literal] {
        guard !elements.isEmpty else {
            throw FilterError(path: path, message: "the list is empty and would match nothing; remove the condition or give values")
        }
        guard elements.count <= limits.maximumListLength else {
            throw FilterError(path: path, message: "the list has \(elements.count) values; at most \(limits.maximumListLength) are accepted")
        }
        var literals: [FilterQuery.Literal] = []
        literals.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            if element.isNull {
                throw FilterError(path: "\(path)[\(index)]", message: "null in a list never matches; use a separate \"column is\": null condition")
            }
            literals.append(try literal(element, at: "\(path)[\(index)]"))
        }
        return literals
    }

    private mutating func literal(_ json: JSONValue, at path: String) throws(FilterError) -> FilterQuery.Literal {
        let literal: FilterQuery.Literal
        switch json {
        case .string(let text): literal = .string(text)
        case .int(let number): literal = .integer(number)
        case .double(let number): literal = .double(number)
        case .decimal(let digits): literal = .decimal(digits)
        case .bool(let flag): literal = .bool(flag)
        case .null, .array, .object:
            throw FilterError(path: path, message: "expected a string, number or boolean, not \(json.kindDescription)")
        }
        try countParameter(at: path)
        return literal
    }

    private mutating func countParameter(at path: String) throws(FilterError) {
        parameters += 1
        guard parameters <= limits.maximumParameters else {
            throw FilterError(path: path, message: "the filter has more than \(limits.maximumParameters) values, PostgreSQL's limit for one statement")
        }
    }

    // MARK: Small values

    private func flag(_ json: JSONValue?, at path: String) throws(FilterError) -> Bool {
        guard let json else { return false }
        guard let flag = json.boolValue else { throw FilterError(path: path, message: "expected true or false, not \(json.kindDescription)") }
        return flag
    }

    private mutating func count(_ json: JSONValue?, at path: String) throws(FilterError) -> Int64? {
        guard let json else { return nil }
        guard let number = json.intValue, number >= 0 else {
            throw FilterError(path: path, message: "expected a non-negative integer, not \(json.serialized())")
        }
        try countParameter(at: path)
        return number
    }

    /// A string or a list of strings, each with its path.
    private func strings(_ json: JSONValue, at path: String) throws(FilterError) -> [(text: String, path: String)] {
        if let text = json.stringValue { return [(text, path)] }
        guard let list = json.arrayValue else {
            throw FilterError(path: path, message: "expected a string or a list of strings, not \(json.kindDescription)")
        }
        var texts: [(text: String, path: String)] = []
        for (index, element) in list.enumerated() {
            guard let text = element.stringValue else {
                throw FilterError(path: "\(path)[\(index)]", message: "expected a string, not \(element.kindDescription)")
            }
            texts.append((text, "\(path)[\(index)]"))
        }
        return texts
    }

    static func words(_ text: some StringProtocol) -> [String] {
        text.split(whereSeparator: { (character: Character) in character.isWhitespace }).map { String($0) }
    }
}

/// Every operator a `where` key may name, as written (lowercased, `!=` read as `<>`).
enum WhereOperator: String, CaseIterable {
    case equal = "="
    case notEqual = "<>"
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case like
    case notLike = "not like"
    case ilike
    case notIlike = "not ilike"
    case `in`
    case notIn = "not in"
    case `is`
    case isNot = "is not"

    /// The binary comparison this operator is, if it is one.
    var comparison: FilterQuery.ComparisonOperator? {
        switch self {
        case .equal: .equal
        case .notEqual: .notEqual
        case .less: .less
        case .lessOrEqual: .lessOrEqual
        case .greater: .greater
        case .greaterOrEqual: .greaterOrEqual
        case .like: .like
        case .notLike: .notLike
        case .ilike: .ilike
        case .notIlike: .notIlike
        case .in, .notIn, .is, .isNot: nil
        }
    }

    static let spellings = "=, !=, <>, <, <=, >, >=, like, not like, ilike, not ilike, in, not in, is, is not"
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
