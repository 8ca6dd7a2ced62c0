import SQLBuilding
import CLibPQ
import JSON

/// The rows a statement returned, read in place from libpq's result.
///
/// ```swift
/// let rows = try connection.query("SELECT job_id, next_run_time FROM jobs")
/// for row in rows {
///     let id = try row.decode(String.self, column: "job_id")
///     let next = try row.decode(Timestamp?.self, column: "next_run_time")
/// }
/// ```
public final class PostgresRows: @unchecked Sendable {
    // @unchecked: the libpq result is never modified after the statement returned, and
    // libpq's accessors only read it, so any thread may read it.
    private let result: OpaquePointer
    public let columns: [Column]
    private let columnPositions: [String: Int]
    private let columnKeys: [ColumnKey]
    public let count: Int
    /// Rows inserted, updated or deleted (0 for a SELECT's count, see ``count``).
    public let affectedRowCount: Int

    public struct Column: Sendable, Hashable {
        public let name: String
        public let type: PostgresType
    }

    init(_ result: OpaquePointer) {
        self.result = result
        count = Int(PQntuples(result))
        columns = (0..<PQnfields(result)).map { index in
            Column(name: String(cString: PQfname(result, index)), type: PostgresType(oid: PQftype(result, index)))
        }
        // With repeated names (`SELECT a.id, b.id`), a lookup by name finds the first. A narrow
        // result is scanned (see position(ofColumn:)); only a wide one is worth hashing.
        var positions: [String: Int] = [:]
        if columns.count > Self.scannedColumns {
            for (index, column) in columns.enumerated() where positions[column.name] == nil {
                positions[column.name] = index
            }
        }
        columnPositions = positions
        columnKeys = columns.map { ColumnKey($0.name) }
        affectedRowCount = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    deinit {
        PQclear(result)
    }

    /// Bytes of text the server sent for row `row`, all columns together (NULLs count nothing).
    func byteCount(row: Int) -> Int {
        (0..<Int32(columns.count)).reduce(0) { total, column in total + Int(PQgetlength(result, Int32(row), column)) }
    }

    /// The column's position, or nil when the result has no such column.
    public func position(ofColumn name: String) -> Int? {
        // Every cell read by name asks this, so it must cost less than hashing the name: for
        // the usual few dozen columns, a scan of each name's length and first eight bytes, then
        // one comparison of the name that matched them (the first of a repeated name is found).
        guard columns.count <= Self.scannedColumns else { return columnPositions[name] }
        let key = ColumnKey(name)
        for position in columnKeys.indices where columnKeys[position] == key && columns[position].name == name {
            return position
        }
        return nil
    }

    private static let scannedColumns = 32

    /// A column name's length and first eight bytes: what tells most names apart, with no hashing.
    private struct ColumnKey: Equatable {
        let length: Int
        let prefix: UInt64

        init(_ name: String) {
            var name = name
            (length, prefix) = name.withUTF8 { bytes in
                var prefix: UInt64 = 0
                for index in 0..<Swift.min(8, bytes.count) { prefix = prefix << 8 | UInt64(bytes[index]) }
                return (bytes.count, prefix)
            }
        }
    }

    func cell(row: Int, column: Int) -> PostgresCell {
        let row32 = Int32(row)
        let column32 = Int32(column)
        let text: String? =
            PQgetisnull(result, row32, column32) == 1
            ? nil
            : String(cString: PQgetvalue(result, row32, column32))
        return PostgresCell(text: text, type: columns[column].type, columnName: columns[column].name)
    }
}

extension PostgresRows: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }
}

/// One row of ``PostgresRows``.
public struct PostgresRow: Sendable {
    public let rows: PostgresRows
    public let index: Int

    /// The named column as `type`; `T?` reads NULL as nil.
    ///
    /// - Throws: ``PostgresError/Kind/decoding`` naming the column, its PostgreSQL type and `T`,
    ///   or saying the column does not exist.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column name: String) throws(PostgresError) -> T {
        guard let position = rows.position(ofColumn: name) else {
            let available = rows.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw PostgresError(
                kind: .decoding, message: "the result has no column \"\(name)\"; it has \(available)")
        }
        return try decode(type, at: position)
    }

    /// The column at `position` (0-based) as `type`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at position: Int) throws(PostgresError) -> T {
        try T.decode(from: rows.cell(row: index, column: position))
    }

    /// Every column as JSON, in column order: what the `$filter` debug endpoint shows.
    /// Timestamps become ISO 8601 UTC, numerics keep their exact digits, json and jsonb become
    /// JSON, arrays become arrays. With a repeated column name the last column wins.
    /// Bytes of text the server sent for this row, all columns together.
    public var byteCount: Int { rows.byteCount(row: index) }

    public func jsonObject() -> JSONObject {
        var object = JSONObject()
        for position in rows.columns.indices {
            let cell = rows.cell(row: index, column: position)
            object[cell.columnName] = cell.jsonValue
        }
        return object
    }
}
