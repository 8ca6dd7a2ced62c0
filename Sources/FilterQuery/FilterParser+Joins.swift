import JSON
import SQLBuilding

extension FilterParser {
    /// One join object, or a list of them.
    func joins(_ json: JSONValue) throws(ParseFailure) -> [FilterQuery.Join] {
        switch json {
        case .object: return [try join(json)]
        case .array(let list):
            var joins: [FilterQuery.Join] = []
            for (index, element) in list.enumerated() {
                joins.append(try within(.element(index)) { () throws(ParseFailure) in try join(element) })
            }
            return joins
        default:
            throw ParseFailure("expected a join object or a list of them, not \(json.kindDescription)")
        }
    }

    private func join(_ json: JSONValue) throws(ParseFailure) -> FilterQuery.Join {
        guard case .object(let object) = json else {
            throw ParseFailure("expected a join object such as {\"table\": \"versions\", \"on\": {\"analyses.version_id\": \"versions.id\"}}, not \(json.kindDescription)")
        }
        var table: FilterQuery.TableReference?
        var kind: FilterQuery.JoinKind?
        var on: JSONValue?
        var using: JSONValue?
        for index in object.keys.indices {
            let key = object.keys[index]
            let value = object.values[index]
            switch key {
            case "table": table = try within(.member(key)) { () throws(ParseFailure) in try self.table(value) }
            case "type", "join_type":
                guard kind == nil else { throw ParseFailure("give 'type' or 'join_type', not both") }
                kind = try within(.member(key)) { () throws(ParseFailure) in try Self.joinKind(value) }
            case "on": on = value
            case "using": using = value
            default:
                throw ParseFailure("unknown key \"\(key)\"; use \"table\", \"on\", \"using\", \"type\", \"join_type\"")
            }
        }
        guard let table else { throw ParseFailure("'table' is required: the table to join") }
        switch (on, using) {
        case (nil, nil):
            return FilterQuery.Join(kind ?? .inner, table, .natural)
        case (let on?, nil):
            return FilterQuery.Join(kind ?? .inner, table, .on(try within(.member("on")) { () throws(ParseFailure) in try Self.columnPairs(on) }))
        case (nil, let using?):
            let columns = try within(.member("using")) { () throws(ParseFailure) in
                let columns = try Self.strings(using) { text throws(ParseFailure) in try Self.name(text) }
                guard !columns.isEmpty else { throw ParseFailure("expected at least one column") }
                return columns
            }
            return FilterQuery.Join(kind ?? .inner, table, .using(columns))
        case (.some, .some):
            throw ParseFailure("give 'on' or 'using', not both")
        }
    }

    /// `{"a.id": "b.a_id", ...}`: each pair `a.id = b.a_id`, ANDed.
    private static func columnPairs(_ json: JSONValue) throws(ParseFailure) -> [FilterQuery.ColumnPair] {
        guard case .object(let pairs) = json, !pairs.isEmpty else {
            let kind = json.objectValue != nil ? "an empty object" : json.kindDescription
            throw ParseFailure("expected an object of column pairs, such as {\"a.id\": \"b.a_id\"}, not \(kind)")
        }
        var columnPairs: [FilterQuery.ColumnPair] = []
        for index in pairs.keys.indices {
            let left = pairs.keys[index]
            let right = pairs.values[index]
            columnPairs.append(try within(.entry(left)) { () throws(ParseFailure) in
                guard case .string(let rightName) = right else {
                    throw ParseFailure("expected the name of the column to match, not \(right.kindDescription)")
                }
                return FilterQuery.ColumnPair(try identifier(left), try identifier(rightName))
            })
        }
        return columnPairs
    }

    /// `inner`, `left`, `right`, `full`, and json2sql's `join`, `left_join`, `left outer join`, ...
    private static func joinKind(_ json: JSONValue) throws(ParseFailure) -> FilterQuery.JoinKind {
        if case .string(let spelling) = json {
            // The spellings fabric8's filters use, matched before any normalizing.
            switch spelling {
            case "left": return .left
            case "inner", "join": return .inner
            case "right": return .right
            case "full": return .full
            default: break
            }
            let words = spelling.lowercased().utf8
                .split(whereSeparator: { $0 == UInt8(ascii: "_") || isASCIIWhitespace($0) })
                .map { String(Substring($0)) }
                .filter { $0 != "join" && $0 != "outer" }
            if words.isEmpty { return .inner }
            if words.count == 1, let kind = FilterQuery.JoinKind(rawValue: words[0]) { return kind }
        }
        throw ParseFailure("\(json.serialized()) is not a join type; use \"inner\", \"left\", \"right\" or \"full\"")
    }
}
