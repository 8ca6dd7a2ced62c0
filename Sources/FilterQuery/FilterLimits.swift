/// Bounds on what a `$filter` document may ask for, so that no document can exhaust memory,
/// the stack or PostgreSQL's parameter limit, and, optionally, which tables it may read.
public struct FilterLimits: Sendable, Equatable {
    /// The document as compact JSON, in bytes. Default 1 MiB.
    public var maximumDocumentBytes = 1 << 20
    /// Sub-selects within sub-selects. Default 16.
    public var maximumSubselectDepth = 16
    /// `$or`/`$and` groups within groups. Default 32.
    public var maximumGroupDepth = 32
    /// Values in one `in` list. Default 10,000.
    public var maximumListLength = 10_000
    /// Values in the whole query. PostgreSQL binds at most 65,535 parameters to a statement, and
    /// expansion adds one (its row cap, `LIMIT $n`), so a filter may bring 65,534.
    public var maximumParameters = 65_534
    /// The tables (as written, `versions` or `public.versions`) a filter may read; nil allows any
    /// table the database user can read.
    public var allowedTables: Set<String>?

    public init(allowedTables: Set<String>? = nil) {
        self.allowedTables = allowedTables
    }

    public static let standard = FilterLimits()
}
