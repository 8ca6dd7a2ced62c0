import SQLBuilding

/// A closed set of words kept in a `text` column (a state, an origin). Reading a word the enum
/// does not know throws, naming the column, the word and the words accepted: a value that a
/// later migration adds is never silently misread as some default.
///
/// ```swift
/// enum Light: String, PostgresTextEnum { case red, green }
/// let light = try row.decode(Light.self, column: "light")   // "amber" throws
/// ```
public protocol PostgresTextEnum: RawRepresentable, CaseIterable, PostgresDecodable, SQLBindable where RawValue == String {}

extension PostgresTextEnum {
    public static func decode(from cell: PostgresCell) throws(PostgresError) -> Self {
        let text = try String.decode(from: cell)
        guard let value = Self(rawValue: text) else {
            let accepted = allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw cell.mismatch(Self.self, "\"\(text)\" is none of \(accepted)")
        }
        return value
    }

    /// Sent as its word.
    public var sqlValue: SQLValue { rawValue.sqlValue }
}
