/// A PostgreSQL type by its OID (the numbers are fixed in `pg_type.dat` for built-in types).
public struct PostgresType: Sendable, Hashable, CustomStringConvertible {
    public let oid: UInt32

    public init(oid: UInt32) { self.oid = oid }

    /// Sent for a parameter whose type the server should infer from where it is used, as it does
    /// for a quoted literal: `WHERE started_at > $1` with `'2017-04-01 20:00:00'` works.
    public static let unknown = PostgresType(oid: 0)
    public static let bool = PostgresType(oid: 16)
    public static let bytea = PostgresType(oid: 17)
    public static let char = PostgresType(oid: 18)
    public static let name = PostgresType(oid: 19)
    public static let int8 = PostgresType(oid: 20)
    public static let int2 = PostgresType(oid: 21)
    public static let int4 = PostgresType(oid: 23)
    public static let text = PostgresType(oid: 25)
    public static let oidType = PostgresType(oid: 26)
    public static let json = PostgresType(oid: 114)
    public static let float4 = PostgresType(oid: 700)
    public static let float8 = PostgresType(oid: 701)
    public static let bpchar = PostgresType(oid: 1042)
    public static let varchar = PostgresType(oid: 1043)
    public static let date = PostgresType(oid: 1082)
    public static let time = PostgresType(oid: 1083)
    public static let timestamp = PostgresType(oid: 1114)
    public static let timestamptz = PostgresType(oid: 1184)
    public static let interval = PostgresType(oid: 1186)
    public static let numeric = PostgresType(oid: 1700)
    public static let uuid = PostgresType(oid: 2950)
    public static let jsonb = PostgresType(oid: 3802)

    public static let boolArray = PostgresType(oid: 1000)
    public static let int2Array = PostgresType(oid: 1005)
    public static let int4Array = PostgresType(oid: 1007)
    public static let textArray = PostgresType(oid: 1009)
    public static let bpcharArray = PostgresType(oid: 1014)
    public static let varcharArray = PostgresType(oid: 1015)
    public static let int8Array = PostgresType(oid: 1016)
    public static let float4Array = PostgresType(oid: 1021)
    public static let float8Array = PostgresType(oid: 1022)
    public static let timestampArray = PostgresType(oid: 1115)
    public static let dateArray = PostgresType(oid: 1182)
    public static let timestamptzArray = PostgresType(oid: 1185)
    public static let numericArray = PostgresType(oid: 1231)
    public static let uuidArray = PostgresType(oid: 2951)
    public static let jsonArray = PostgresType(oid: 199)
    public static let jsonbArray = PostgresType(oid: 3807)

    private static let names: [UInt32: String] = [
        0: "unknown", 16: "boolean", 17: "bytea", 18: "\"char\"", 19: "name", 20: "bigint", 21: "smallint",
        23: "integer", 25: "text", 26: "oid", 114: "json", 700: "real", 701: "double precision",
        1042: "character", 1043: "character varying", 1082: "date", 1083: "time",
        1114: "timestamp without time zone", 1184: "timestamp with time zone", 1186: "interval",
        1700: "numeric", 2950: "uuid", 3802: "jsonb",
    ]

    private static let elements: [UInt32: PostgresType] = [
        1000: .bool, 1005: .int2, 1007: .int4, 1009: .text, 1014: .bpchar, 1015: .varchar, 1016: .int8,
        1021: .float4, 1022: .float8, 1115: .timestamp, 1182: .date, 1185: .timestamptz, 1231: .numeric,
        2951: .uuid, 199: .json, 3807: .jsonb,
    ]

    /// For an array type, the type of its elements; nil for a scalar type (or an array type
    /// this module does not know, which reads as text).
    public var elementType: PostgresType? { Self.elements[oid] }

    /// The SQL name, as error messages show it: "bigint", "timestamp with time zone", "text[]".
    public var description: String {
        if let name = Self.names[oid] { return name }
        if let element = elementType { return "\(element)[]" }
        return "type with OID \(oid)"
    }
}
