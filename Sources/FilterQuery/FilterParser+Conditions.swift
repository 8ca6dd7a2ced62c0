import JSON
import SQLBuilding

extension FilterParser {
    /// `where`: an object of conditions, ANDed; nil when it is empty.
    mutating func whereClause(_ json: JSONValue, depth: Int) throws(ParseFailure) -> FilterQuery.Condition? {
        guard case .object(let conditions) = json else {
            throw ParseFailure("expected an object of conditions such as {\"name\": \"serve-static\"}, not \(json.kindDescription)")
        }
        return conditions.isEmpty ? nil : try self.conditions(conditions, depth: depth, groupDepth: 0)
    }

    /// An object of conditions: its entries ANDed.
    private mutating func conditions(_ object: JSONObject, depth: Int, groupDepth: Int) throws(ParseFailure) -> FilterQuery.Condition {
        var conditions: [FilterQuery.Condition] = []
        conditions.reserveCapacity(object.count)
        for index in object.keys.indices {
            let key = object.keys[index]
            let value = object.values[index]
            conditions.append(try within(.entry(key)) { () throws(ParseFailure) in
                if let junction = FilterQuery.Junction(rawValue: key) {
                    return try group(junction, value, depth: depth, groupDepth: groupDepth + 1)
                }
                return try condition(key, value, depth: depth)
            })
        }
        return .all(conditions)
    }

    private mutating func group(
        _ junction: FilterQuery.Junction, _ json: JSONValue, depth: Int, groupDepth: Int
    ) throws(ParseFailure) -> FilterQuery.Condition {
        guard groupDepth <= limits.maximumGroupDepth else {
            throw ParseFailure("'$or'/'$and' groups nest deeper than \(limits.maximumGroupDepth)")
        }
        guard case .array(let members) = json, !members.isEmpty else {
            let kind = json.arrayValue != nil ? "an empty list" : json.kindDescription
            throw ParseFailure("expected a non-empty list of condition objects, such as [{\"a\": 1}, {\"b\": 2}], not \(kind)")
        }
        var conditions: [FilterQuery.Condition] = []
        for (index, member) in members.enumerated() {
            conditions.append(try within(.element(index)) { () throws(ParseFailure) in
                guard case .object(let object) = member, !object.isEmpty else {
                    let kind = member.objectValue != nil ? "an empty object" : member.kindDescription
                    throw ParseFailure("expected a non-empty object of conditions, not \(kind)")
                }
                return try self.conditions(object, depth: depth, groupDepth: groupDepth)
            })
        }
        return .group(junction, conditions)
    }

    /// One `"column op": value` entry.
    private mutating func condition(_ key: String, _ value: JSONValue, depth: Int) throws(ParseFailure) -> FilterQuery.Condition {
        let (columnName, op) = try Self.columnAndOperator(key)
        let column = try Self.identifier(columnName)
        let spelled = op.map { "'\($0.spelling)'" } ?? "a bare column"

        switch value {
        case .null:
            switch op {
            case nil, .equal?, .is?: return .null(column, negated: false)
            case .notEqual?, .isNot?: return .null(column, negated: true)
            default: throw ParseFailure("null cannot be compared with \(spelled); use \"\(columnName) is\": null or \"\(columnName) is not\": null")
            }
        case .array(let elements):
            switch op {
            case nil, .equal?, .in?: return .membership(column, negated: false, .list(try list(elements)))
            case .notEqual?, .notIn?: return .membership(column, negated: true, .list(try list(elements)))
            default: throw ParseFailure("a list can only be used with 'in' or 'not in', not \(spelled)")
            }
        case .object(let object):
            guard object.count == 1, object.keys[0] == "$filter" else {
                throw ParseFailure("an object value must be a sub-select {\"$filter\": {...}}; values are strings, numbers, booleans, null or lists")
            }
            if case .is? = op { throw ParseFailure("'is' compares with null, true or false, not a sub-select") }
            if case .isNot? = op { throw ParseFailure("'is' compares with null, true or false, not a sub-select") }
            let subquery = try within(.member("$filter")) { () throws(ParseFailure) in
                guard depth < limits.maximumSubselectDepth else {
                    throw ParseFailure("sub-selects nest deeper than \(limits.maximumSubselectDepth)")
                }
                return try query(object.values[0], depth: depth + 1)
            }
            switch op {
            case nil, .in?: return .membership(column, negated: false, .subquery(subquery))
            case .notIn?: return .membership(column, negated: true, .subquery(subquery))
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
            throw ParseFailure("'is' compares with null, true or false, not \(value.kindDescription); use '=' for other values")
        case .in?, .notIn?:
            throw ParseFailure("\(spelled) expects a list or a sub-select {\"$filter\": {...}}, not \(value.kindDescription)")
        default:
            break
        }
        let comparison = op?.comparison ?? .equal
        if let reference = Self.columnReference(value) {
            return .compare(column, comparison, .column(reference))
        }
        if comparison.isPatternMatch, value.stringValue == nil {
            throw ParseFailure("\(spelled) expects a string pattern, not \(value.kindDescription)")
        }
        return .compare(column, comparison, .value(try literal(value)))
    }

    /// `"started_at >"` → ("started_at", `>`); `"name"` → ("name", nil).
    private static func columnAndOperator(_ key: String) throws(ParseFailure) -> (String, WhereOperator?) {
        let bytes = key.utf8
        guard let start = bytes.firstIndex(where: { !isASCIIWhitespace($0) }) else {
            throw ParseFailure("expected a column, optionally followed by an operator, such as \"started_at >\"")
        }
        guard let end = bytes[start...].firstIndex(where: isASCIIWhitespace) else {
            return (start == bytes.startIndex ? key : String(key[start...]), nil)
        }
        let column = String(key[start..<end])
        let written = key[end...].trimmingWhitespace()
        if written.isEmpty { return (column, nil) }
        // Lower case with single spaces: "NOT  LIKE" is "not like".
        if let op = WhereOperator(spelling: written.lowercased()) { return (column, op) }
        guard let op = WhereOperator(spelling: words(written).joined(separator: " ").lowercased()) else {
            throw ParseFailure("\"\(written)\" is not an operator; use \(WhereOperator.spellings)")
        }
        return (column, op)
    }

    /// `"$A.started_at"`: a `$` and a valid dotted name is a column; any other string is data.
    private static func columnReference(_ value: JSONValue) -> SQLIdentifier? {
        guard case .string(let text) = value, text.utf8.first == UInt8(ascii: "$") else { return nil }
        return try? SQLIdentifier(qualified: String(Substring(text.utf8.dropFirst())))
    }

    /// The values of an `in` list; an empty one is fine (programs build these lists): `in []`
    /// matches nothing and `not in []` everything.
    private mutating func list(_ elements: [JSONValue]) throws(ParseFailure) -> [FilterQuery.Literal] {
        guard elements.count <= limits.maximumListLength else {
            throw ParseFailure("the list has \(elements.count) values; at most \(limits.maximumListLength) are accepted")
        }
        var literals: [FilterQuery.Literal] = []
        literals.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            literals.append(try within(.element(index)) { () throws(ParseFailure) in
                if case .null = element { throw ParseFailure("null in a list never matches; use a separate \"column is\": null condition") }
                return try literal(element)
            })
        }
        return literals
    }

    private mutating func literal(_ json: JSONValue) throws(ParseFailure) -> FilterQuery.Literal {
        let literal: FilterQuery.Literal
        switch json {
        case .string(let text):
            // PostgreSQL's text cannot hold U+0000: refused here, where the key path is known,
            // rather than by the server when the query runs (or never, for show-select-query).
            guard !text.utf8.contains(0) else { throw ParseFailure("a string holding U+0000 cannot be sent to PostgreSQL, whose text cannot hold it") }
            literal = .string(text)
        case .int(let number): literal = .integer(number)
        case .double(let number): literal = .double(number)
        case .decimal(let digits): literal = .decimal(digits)
        case .bool(let flag): literal = .bool(flag)
        case .null, .array, .object: throw ParseFailure("expected a string, number or boolean, not \(json.kindDescription)")
        }
        try countParameter()
        return literal
    }
}

/// Every operator a `where` key may name: a binary comparison, or one of the four that make
/// conditions of their own.
enum WhereOperator: Equatable {
    case compare(FilterQuery.ComparisonOperator)
    case `in`, notIn, `is`, isNot

    static let equal = WhereOperator.compare(.equal)
    static let notEqual = WhereOperator.compare(.notEqual)

    /// The operator written `spelling` (lower case, single spaces); `!=` is `<>`.
    init?(spelling: String) {
        switch spelling {
        case "in": self = .in
        case "not in": self = .notIn
        case "is": self = .is
        case "is not": self = .isNot
        case "!=": self = .notEqual
        default:
            // The comparisons' raw values are their SQL, which is their spelling in upper case.
            guard let comparison = FilterQuery.ComparisonOperator(rawValue: spelling.uppercased()) else { return nil }
            self = .compare(comparison)
        }
    }

    /// As messages quote it: `like`, `<>`, `not in`.
    var spelling: String {
        switch self {
        case .compare(let comparison): comparison.rawValue.lowercased()
        case .in: "in"
        case .notIn: "not in"
        case .is: "is"
        case .isNot: "is not"
        }
    }

    /// The binary comparison this operator is, if it is one.
    var comparison: FilterQuery.ComparisonOperator? {
        if case .compare(let comparison) = self { return comparison }
        return nil
    }

    static let spellings = "=, !=, <>, <, <=, >, >=, like, not like, ilike, not ilike, in, not in, is, is not"
}
