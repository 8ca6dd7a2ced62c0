import JSON
import SQLBuilding

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
        let size = document.compactByteCount
        guard size <= limits.maximumDocumentBytes else {
            throw FilterError(path: "$filter", message: "the document is \(size) bytes; at most \(limits.maximumDocumentBytes) are accepted")
        }
        var parser = FilterParser(limits: limits)
        do {
            self = try parser.query(document, depth: 0)
        } catch {
            throw FilterError(path: error.path, message: error.message)
        }
    }

    /// The keys a `$filter` object may hold.
    public static let keys = ["table", "select", "distinct", "count", "joins", "where", "order_by", "group_by", "limit", "offset"]
}

/// A problem the parser found, and the way back up from it to the document's root. The way is
/// added step by step as the error leaves each level, so a document that parses never spends
/// anything on paths.
struct ParseFailure: Error {
    enum Step {
        /// `.name`
        case member(String)
        /// `[1]`
        case element(Int)
        /// `["A.finished_at is"]`: a key that may hold any text.
        case entry(String)
    }

    let message: String
    /// Innermost first.
    var steps: [Step] = []

    init(_ message: String) { self.message = message }

    /// This failure, one step further in: for a problem found after leaving the place it concerns.
    func at(_ step: Step) -> ParseFailure {
        var failure = self
        failure.steps.append(step)
        return failure
    }

    /// `$filter.joins[1].on`
    var path: String {
        steps.reversed().reduce(into: "$filter") { path, step in
            switch step {
            case .member(let name): path += ".\(name)"
            case .element(let index): path += "[\(index)]"
            case .entry(let key): path += "[\"\(key)\"]"
            }
        }
    }
}

/// Runs `body`; an error it throws gets `step` added to its path on the way out.
@inline(__always)
func within<T>(_ step: ParseFailure.Step, _ body: () throws(ParseFailure) -> T) throws(ParseFailure) -> T {
    do {
        return try body()
    } catch {
        throw error.at(step)
    }
}

/// The state of one parse: the limits, and the values counted so far against the parameter limit.
struct FilterParser {
    let limits: FilterLimits
    private var parameters = 0

    init(limits: FilterLimits) { self.limits = limits }

    mutating func query(_ json: JSONValue, depth: Int) throws(ParseFailure) -> FilterQuery {
        guard case .object(let object) = json else {
            throw ParseFailure("expected an object such as {\"table\": \"versions\"}, not \(json.kindDescription)")
        }
        // One pass over the keys, in the document's order; combinations are checked after it.
        var table: FilterQuery.TableReference?
        var select: JSONValue?
        var counting = false
        var distinct = false
        var joins: [FilterQuery.Join] = []
        var condition: FilterQuery.Condition?
        var groupBy: [SQLIdentifier] = []
        var orderBy: [FilterQuery.SortKey] = []
        var limit: Int64?
        var offset: Int64?
        // By index: JSONObject's own iterator is generic across the module boundary, and slow.
        for index in object.keys.indices {
            let key = object.keys[index]
            let value = object.values[index]
            switch key {
            case "table": table = try within(.member(key)) { () throws(ParseFailure) in try self.table(value) }
            case "select": select = value
            case "count": counting = try within(.member(key)) { () throws(ParseFailure) in try Self.flag(value) }
            case "distinct": distinct = try within(.member(key)) { () throws(ParseFailure) in try Self.flag(value) }
            case "joins": joins = try within(.member(key)) { () throws(ParseFailure) in try self.joins(value) }
            case "where": condition = try within(.member(key)) { () throws(ParseFailure) in try self.whereClause(value, depth: depth) }
            case "group_by":
                groupBy = try within(.member(key)) { () throws(ParseFailure) in
                    try Self.strings(value) { text throws(ParseFailure) in try Self.identifier(text) }
                }
            case "order_by":
                orderBy = try within(.member(key)) { () throws(ParseFailure) in
                    try Self.strings(value) { text throws(ParseFailure) in try Self.sortKey(text) }
                }
            case "limit": limit = try within(.member(key)) { () throws(ParseFailure) in try self.count(value) }
            case "offset": offset = try within(.member(key)) { () throws(ParseFailure) in try self.count(value) }
            default:
                throw ParseFailure("unknown key \"\(key)\"; use \(FilterQuery.keys.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
        }
        guard let table else {
            throw ParseFailure("'table' is required: the table to read, such as \"versions\" or \"analyses AS A\"")
        }
        var query = FilterQuery(
            table: table, distinct: distinct, joins: joins, condition: condition, groupBy: groupBy, orderBy: orderBy,
            limit: limit, offset: offset)
        if counting {
            // As json2sql: COUNT(*) is the whole select list.
            if select != nil {
                throw ParseFailure("'count' cannot be combined with 'select'; write \"select\": \"count(*)\" instead").at(.member("count"))
            }
            if distinct {
                throw ParseFailure("'count' cannot be combined with 'distinct'; write \"select\": \"count(distinct column)\" instead").at(.member("count"))
            }
            query.output = .count
        } else if let select {
            query.output = .columns(try within(.member("select")) { () throws(ParseFailure) in
                try Self.strings(select) { text throws(ParseFailure) in try Self.selectItem(text) }
            })
        }
        return query
    }

    // MARK: Tables, columns, expressions

    /// `versions`, `analyses AS A` or `analyses A`, checked against the allowlist.
    func table(_ json: JSONValue) throws(ParseFailure) -> FilterQuery.TableReference {
        guard case .string(let text) = json else {
            throw ParseFailure("expected a table name such as \"versions\" or \"analyses AS A\", not \(json.kindDescription)")
        }
        let reference: FilterQuery.TableReference
        if let (rest, alias) = Self.splitLastWord(text[...]) {
            // "analyses AS A" or "analyses A".
            var name = rest
            if let (first, keyword) = Self.splitLastWord(rest) {
                guard Self.isKeyword(keyword, "as"), !Self.hasWhitespace(first) else {
                    throw ParseFailure("\"\(text)\" is not a table; write \"versions\" or \"analyses AS A\"")
                }
                name = first
            }
            reference = .init(name: try Self.identifier(String(name)), alias: try Self.name(String(alias)))
        } else {
            reference = .init(name: try Self.identifier(text))
        }
        let parts = reference.name.parts
        // In any case, though names are quoted (so exact): refusing "JOBS" too costs nothing.
        if let last = parts.last, !limits.protectedTables.isEmpty, limits.protectedTables.contains(last.lowercased()) {
            throw ParseFailure("table \"\(reference.name)\" is one of Kairos's own tables, which a filter never reads")
        }
        if let allowed = limits.allowedTables {
            guard allowed.contains(reference.name.description) else {
                throw ParseFailure("table \"\(reference.name)\" is not one a filter may read; allowed: \(allowed.sorted().joined(separator: ", "))")
            }
        } else if Self.isSystemCatalog(reference.name) {
            // Role password hashes (pg_authid), other sessions' queries (pg_stat_activity): not
            // for anyone who can post a job. An allowlist that names one lets it through.
            throw ParseFailure("table \"\(reference.name)\" is one of PostgreSQL's own catalogs, which a filter may read only when the allowlist of filter tables names it")
        } else if parts.count > 1 {
            // schema.table or database.schema.table: the schema is the part before the table.
            let schema = parts[parts.count - 2]
            // Names are quoted, so "Secret" is another schema than secret: compared exactly.
            guard schema == limits.defaultSchema || limits.allowedSchemas.contains(schema) else {
                throw ParseFailure(
                    "table \"\(reference.name)\" is in schema \"\(schema)\", which a filter may read only when the allowlist of filter schemas names it")
            }
        }
        return reference
    }

    /// `pg_authid`, `pg_catalog.pg_class`, `information_schema.tables`, `mydb.pg_catalog.pg_roles`:
    /// the server's own tables. What counts is the schema, the part before the table's name (a
    /// third part before it is the database); an unqualified `pg_` name counts too, since
    /// `pg_catalog` is searched first whatever the search path.
    static func isSystemCatalog(_ name: SQLIdentifier) -> Bool {
        let bytes = name.description.utf8
        var schema = bytes[...]
        if let lastDot = bytes.lastIndex(of: UInt8(ascii: ".")) {
            let before = bytes[..<lastDot]
            schema = before.lastIndex(of: UInt8(ascii: ".")).map { before[before.index(after: $0)...] } ?? before
        }
        return isKeyword(schema.prefix(3), "pg_") || isKeyword(schema, "information_schema")
    }

    /// A dotted name: `versions.identifier`, `public.versions`.
    static func identifier(_ text: String) throws(ParseFailure) -> SQLIdentifier {
        do { return try SQLIdentifier(qualified: text) } catch { throw ParseFailure(error.description) }
    }

    /// A single name: an alias, a `using` column.
    static func name(_ text: String) throws(ParseFailure) -> SQLIdentifier {
        do { return try SQLIdentifier(validating: text) } catch { throw ParseFailure(error.description) }
    }

    private static func selectItem(_ text: String) throws(ParseFailure) -> FilterQuery.SelectItem {
        // "expression AS alias": the last two words, when the one before the last is "as".
        if let (rest, alias) = splitLastWord(text[...]), let (expression, keyword) = splitLastWord(rest), isKeyword(keyword, "as") {
            return FilterQuery.SelectItem(try Self.expression(String(expression), allowsStar: true), alias: try name(String(alias)))
        }
        return FilterQuery.SelectItem(try expression(text, allowsStar: true))
    }

    /// `col`, `t.col`, `*`, `t.*`, `count(*)`, `count(distinct col)`, `max(col)`.
    private static func expression(_ text: String, allowsStar: Bool) throws(ParseFailure) -> FilterQuery.Expression {
        let bytes = text.utf8
        // Byte comparisons: Character-wise ones pay for grapheme breaking.
        if bytes.last == UInt8(ascii: "*"), bytes.count == 1 || bytes.dropLast().last == UInt8(ascii: ".") {
            guard allowsStar else { throw ParseFailure("\"\(text)\" can only be selected, not sorted by") }
            return .allColumns(of: bytes.count == 1 ? nil : try identifier(String(Substring(bytes.dropLast(2)))))
        }
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")) else { return .column(try identifier(text)) }
        let functionName = text[..<open].trimmingWhitespace().lowercased()
        guard let function = FilterQuery.Aggregate(rawValue: functionName) else {
            throw ParseFailure(
                "\"\(functionName)\" is not a function a filter may call; use \(FilterQuery.Aggregate.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard bytes.last == UInt8(ascii: ")") else { throw ParseFailure("\"\(text)\" is missing its closing parenthesis") }
        let inner = text[bytes.index(after: open)..<bytes.index(before: bytes.endIndex)].trimmingWhitespace()
        if inner == "*" {
            guard function == .count else { throw ParseFailure("only count takes *, not \(function.rawValue)") }
            return .aggregate(function, .allRows)
        }
        if hasWhitespace(inner) {
            let innerWords = words(inner)
            if innerWords.count == 2, isKeyword(innerWords[0], "distinct") {
                return .aggregate(function, .distinct(try identifier(innerWords[1])))
            }
        }
        return .aggregate(function, .column(try identifier(inner)))
    }

    /// `col`, `col DESC`, `count(*) desc nulls last`.
    private static func sortKey(_ text: String) throws(ParseFailure) -> FilterQuery.SortKey {
        var rest = text[...]
        var nullsFirst: Bool?
        if let (before, last) = splitLastWord(rest), let (expression, keyword) = splitLastWord(before), isKeyword(keyword, "nulls") {
            if isKeyword(last, "first") {
                nullsFirst = true
            } else if isKeyword(last, "last") {
                nullsFirst = false
            } else {
                throw ParseFailure("\"\(text)\": write NULLS FIRST or NULLS LAST")
            }
            rest = expression
        }
        var descending = false
        if let (expression, direction) = splitLastWord(rest), isKeyword(direction, "asc") || isKeyword(direction, "desc") {
            descending = isKeyword(direction, "desc")
            rest = expression
        }
        return FilterQuery.SortKey(try expression(rest.trimmingWhitespace(), allowsStar: false), descending: descending, nullsFirst: nullsFirst)
    }

    // MARK: Small values

    static func flag(_ json: JSONValue) throws(ParseFailure) -> Bool {
        guard case .bool(let flag) = json else { throw ParseFailure("expected true or false, not \(json.kindDescription)") }
        return flag
    }

    private mutating func count(_ json: JSONValue) throws(ParseFailure) -> Int64 {
        guard case .int(let number) = json, number >= 0 else {
            throw ParseFailure("expected a non-negative integer, not \(json.serialized())")
        }
        try countParameter()
        return number
    }

    mutating func countParameter() throws(ParseFailure) {
        parameters += 1
        guard parameters <= limits.maximumParameters else {
            throw ParseFailure("the filter has more than \(limits.maximumParameters) values; PostgreSQL binds at most 65,535 to a statement, one of them Kairos's")
        }
    }

    /// A string or a list of strings, each made into a `T` by `make`.
    static func strings<T>(_ json: JSONValue, _ make: (String) throws(ParseFailure) -> T) throws(ParseFailure) -> [T] {
        switch json {
        case .string(let text):
            return [try make(text)]
        case .array(let list):
            var made: [T] = []
            made.reserveCapacity(list.count)
            for (index, element) in list.enumerated() {
                made.append(try within(.element(index)) { () throws(ParseFailure) in
                    guard case .string(let text) = element else { throw ParseFailure("expected a string, not \(element.kindDescription)") }
                    return try make(text)
                })
            }
            return made
        default:
            throw ParseFailure("expected a string or a list of strings, not \(json.kindDescription)")
        }
    }

    // MARK: Words
    //
    // Byte-wise, and only where a text has white space at all: Character-wise splitting
    // dominated compile time. Only ASCII white space separates words; a name holding other
    // white space is refused as a name.

    /// Whether `text` is `keyword` (given in lower case) in any case, compared byte by byte: a
    /// lower-cased copy for each comparison was a noticeable part of compile time.
    static func isKeyword(_ text: some StringProtocol, _ keyword: StaticString) -> Bool {
        isKeyword(text.utf8, keyword)
    }

    static func isKeyword(_ bytes: some Collection<UInt8>, _ keyword: StaticString) -> Bool {
        guard bytes.count == keyword.utf8CodeUnitCount else { return false }
        return keyword.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { byte, lower in
                // ASCII letters differ from their capitals in bit 0x20 only.
                byte == lower || (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z") && byte | 0x20 == lower)
            }
        }
    }

    static func hasWhitespace(_ text: some StringProtocol) -> Bool {
        text.utf8.contains(where: isASCIIWhitespace)
    }

    static func words(_ text: String) -> [String] {
        text.utf8.split(whereSeparator: isASCIIWhitespace).map { String(Substring($0)) }
    }

    /// `text` without its last word, and that word, both trimmed; nil when `text` has fewer
    /// than two words. `"packages.name as name"` → (`"packages.name as"`, `"name"`).
    static func splitLastWord(_ text: Substring) -> (Substring, Substring)? {
        guard hasWhitespace(text) else { return nil }
        let bytes = text.utf8
        guard let last = bytes.lastIndex(where: { !isASCIIWhitespace($0) }),
              let gap = bytes[..<last].lastIndex(where: isASCIIWhitespace),
              let restLast = bytes[..<gap].lastIndex(where: { !isASCIIWhitespace($0) }),
              let restFirst = bytes.firstIndex(where: { !isASCIIWhitespace($0) })
        else { return nil }
        return (text[restFirst...restLast], text[bytes.index(after: gap)...last])
    }
}

func isASCIIWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte)
}

extension Substring {
    /// Without leading and trailing ASCII white space.
    func trimmingWhitespace() -> String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { !isASCIIWhitespace($0) }),
              let last = bytes.lastIndex(where: { !isASCIIWhitespace($0) })
        else { return "" }
        return String(Substring(bytes[first...last]))
    }
}
