import FilterQuery
import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// The property: every filter that is valid over fabric8's tables compiles to SQL that
/// PostgreSQL plans (EXPLAIN) and runs. Filters are drawn at random from the whole language,
/// with a fixed seed so a failure replays; the failing document is in the message.
@Suite struct GeneratedFilterTests {
    @Test func randomValidFiltersCompileToSQLPostgresAccepts() async throws {
        var generator = FilterGenerator(seed: 0x6B61_6972_6F73)
        let documents = (0..<400).map { _ in generator.filter() }
        let failures = try await withSchemaConnection { connection in
            try FilterFixture.create(on: connection)
            var failures: [String] = []
            for document in documents {
                do {
                    let query = try FilterQuery(parsing: document)
                    // A bound for a runaway query, generous: the database's timer runs on
                    // while a stalled host catches up.
                    try connection.withReadOnlyScope(timeout: .seconds(60)) { scope in
                        _ = try scope.query("EXPLAIN \(query.sql)")
                        _ = try scope.query(query.sql)
                    }
                } catch {
                    failures.append("\(document.serialized()): \(error)")
                }
            }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.count) of \(documents.count) failed; first: \(failures.first ?? "")")
    }
}

/// Random valid filters over ``FilterFixture``'s tables: joins along the foreign keys, every
/// operator with a value of the column's type, lists, nulls, groups, sub-selects, correlated
/// column references, aggregates with their GROUP BY, order, limit and offset.
struct FilterGenerator {
    enum Kind { case integer, text, boolean, timestamp, numeric, json }

    static let columns: [String: [(String, Kind)]] = [
        "ecosystems": [("id", .integer), ("name", .text), ("url", .text), ("backend", .integer)],
        "packages": [("id", .integer), ("ecosystem_id", .integer), ("name", .text)],
        "versions": [("id", .integer), ("package_id", .integer), ("identifier", .text), ("synced2graph", .boolean)],
        "analyses": [
            ("id", .integer), ("version_id", .integer), ("started_at", .timestamp), ("finished_at", .timestamp),
            ("access_count", .integer), ("audit", .json), ("release", .text), ("score", .numeric),
        ],
        "worker_results": [
            ("id", .integer), ("worker", .text), ("worker_id", .text), ("analysis_id", .integer), ("task_result", .json),
            ("error", .boolean), ("external_request_id", .text),
        ],
    ]
    /// Foreign keys, both ways: (table, column, referenced table, its column).
    static let links: [(String, String, String, String)] = [
        ("packages", "ecosystem_id", "ecosystems", "id"), ("versions", "package_id", "packages", "id"),
        ("analyses", "version_id", "versions", "id"), ("worker_results", "analysis_id", "analyses", "id"),
    ]

    private var state: UInt64

    init(seed: UInt64) { state = seed }

    // SplitMix64: small, fast, and the same sequence everywhere.
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    private mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    private mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A top-level filter.
    mutating func filter() -> JSONValue { .object(query(depth: 0, outer: [])) }

    /// `outer`: names of the enclosing query's tables, with their table, for correlated references.
    private mutating func query(depth: Int, outer: [(name: String, table: String)]) -> JSONObject {
        let base = pick(Array(Self.columns.keys).sorted())
        let baseName = chance(30) ? "T\(depth)" : base
        var tables: [(name: String, table: String)] = [(baseName, base)]
        var document: JSONObject = ["table": .string(baseName == base ? base : "\(base) AS \(baseName)")]

        var joins: [JSONValue] = []
        for _ in 0..<below(3) {
            // (a joined name, its column, a table not joined yet, its column), along a foreign key either way.
            var candidates: [(String, String, String, String)] = []
            for link in Self.links {
                for known in tables {
                    if known.table == link.0, !tables.contains(where: { $0.table == link.2 }) {
                        candidates.append((known.name, link.1, link.2, link.3))
                    }
                    if known.table == link.2, !tables.contains(where: { $0.table == link.0 }) {
                        candidates.append((known.name, link.3, link.0, link.1))
                    }
                }
            }
            guard !candidates.isEmpty else { break }
            let (knownName, knownColumn, newTable, newColumn) = pick(candidates)
            var on = JSONObject()
            on["\(knownName).\(knownColumn)"] = .string("\(newTable).\(newColumn)")
            var join: JSONObject = ["table": .string(newTable), "on": .object(on)]
            let kind = pick(["inner", "left", "right", "full", "join", "left_join", "left outer join", nil] as [String?])
            if let kind { join[chance(50) ? "type" : "join_type"] = .string(kind) }
            joins.append(.object(join))
            tables.append((newTable, newTable))
        }
        if !joins.isEmpty { document["joins"] = joins.count == 1 && chance(30) ? joins[0] : .array(joins) }

        let columns = tables.flatMap { table in Self.columns[table.table]!.map { (name: "\(table.name).\($0.0)", kind: $0.1) } }
        var selected: [String] = []
        var grouped: [String] = []
        switch below(5) {
        case 0:
            document["count"] = true
        case 1:
            // Aggregates, with the plain columns beside them grouped.
            let plain = (0..<below(3)).map { _ in pick(columns).name }
            grouped = Array(Set(plain)).sorted()
            let numeric = columns.filter { [.integer, .numeric].contains($0.kind) }
            var items = grouped + ["count(*)"]
            items.append("count(distinct \(pick(columns).name)) as distinct_values")
            let measured = pick(numeric).name
            items.append("\(pick(["min", "max", "sum", "avg"]))(\(measured)) as measure")
            selected = items
            if !grouped.isEmpty { document["group_by"] = .array(grouped.map(JSONValue.string)) }
        case 2:
            selected = ["*"]
        default:
            let count = 1 + below(4)
            selected = (0..<count).map { index in
                let column = pick(columns).name
                return chance(40) ? "\(column) as c\(index)" : column
            }
            if chance(30) { document["distinct"] = true }
        }
        if !selected.isEmpty {
            document["select"] = selected.count == 1 && chance(50) ? .string(selected[0]) : .array(selected.map(JSONValue.string))
        }

        if chance(80) {
            document["where"] = .object(conditions(columns, depth: depth, outer: outer + tables, groupDepth: 0))
        }
        // ORDER BY must name selected columns under DISTINCT, and grouped ones under GROUP BY.
        let sortable = document["distinct"] == true ? [] : (grouped.isEmpty && document["count"] == nil && selected != [] && !selected.contains(where: { $0.contains("(") }) ? columns.map(\.name) : grouped)
        if !sortable.isEmpty, chance(50) {
            document["order_by"] = .array((0..<(1 + below(2))).map { _ in
                .string(pick(sortable) + pick(["", " asc", " DESC", " desc nulls last", " NULLS FIRST"]))
            })
        }
        if chance(30) { document["limit"] = .int(Int64(below(20))) }
        if chance(20) { document["offset"] = .int(Int64(below(5))) }
        return document
    }

    private mutating func conditions(
        _ columns: [(name: String, kind: Kind)], depth: Int, outer: [(name: String, table: String)], groupDepth: Int
    ) -> JSONObject {
        var object = JSONObject()
        for _ in 0..<(1 + below(3)) {
            if groupDepth < 3, chance(15) {
                let members = (0..<(1 + below(3))).map { _ in
                    JSONValue.object(conditions(columns, depth: depth, outer: outer, groupDepth: groupDepth + 1))
                }
                object[pick(["$or", "$and"])] = .array(members)
                continue
            }
            let column = pick(columns)
            let (op, value) = condition(column, columns: columns, depth: depth, outer: outer)
            object[op.isEmpty ? column.name : "\(column.name) \(op)"] = value
        }
        return object
    }

    private mutating func condition(
        _ column: (name: String, kind: Kind), columns: [(name: String, kind: Kind)], depth: Int, outer: [(name: String, table: String)]
    ) -> (String, JSONValue) {
        if chance(10) { return (pick(["", "is", "is not", "=", "!="]), .null) }
        if column.kind == .integer, depth < 3, chance(10) {
            // A sub-select of ids, maybe correlated with this query's tables.
            var sub = query(depth: depth + 1, outer: outer)
            let subTable = sub["table"]!.stringValue!.split(separator: " ").last.map(String.init)!
            sub["select"] = .string("\(subTable).id")
            sub.removeValue(forKey: "count")
            sub.removeValue(forKey: "group_by")
            sub.removeValue(forKey: "order_by")
            sub.removeValue(forKey: "distinct")
            return (pick(["in", "not in", ""]), ["$filter": .object(sub)])
        }
        let sameKind = columns.filter { $0.kind == column.kind && $0.kind != .json }
        if !sameKind.isEmpty, column.kind != .json, chance(10) {
            return (pick(["=", "<>", "<", ">="]), .string("$" + pick(sameKind).name))
        }
        switch column.kind {
        case .integer:
            if chance(25) { return (pick(["in", "not in", "", "!="]), .array((0..<(1 + below(5))).map { _ in .int(Int64(below(20))) })) }
            return (pick(["", "=", "!=", "<>", "<", "<=", ">", ">="]), .int(Int64(below(20))))
        case .numeric:
            return (pick(["<", ">=", "="]), chance(50) ? .double(Double(below(1000)) / 8) : .int(Int64(below(100))))
        case .text:
            if chance(25) { return (pick(["in", "not in"]), .array(["npm", "serve-static", "4.12", "O'Brien", "w1"])) }
            return (pick(["", "=", "!=", "like", "not like", "ilike", "NOT ILIKE", "<", ">="]),
                    .string(pick(["npm", "%serve%", "_.1%", "O'Brien", "'; DROP TABLE versions; --", "w1", ""])))
        case .boolean:
            return chance(50) ? (pick(["is", "is not"]), .bool(chance(50))) : (pick(["", "=", "!="]), .bool(chance(50)))
        case .timestamp:
            return (pick(["<", ">", "<=", ">=", "=", "!="]),
                    .string(pick(["2017-04-01 20:00:00", "2017-04-01T20:00:00Z", "2017-03-30", "2017-04-05 12:00:00+02"])))
        case .json:
            return (pick(["is", "is not"]), .null)
        }
    }
}
