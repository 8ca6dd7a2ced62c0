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
    /// table the database user can read, within ``defaultSchema`` and ``allowedSchemas``.
    public var allowedTables: Set<String>?
    /// The schema a qualified name may always name: the database's default one. Unqualified
    /// names are read through the session's search path.
    public var defaultSchema = "public"
    /// Other schemas a qualified name may name (`reports.sales`); none by default, so a filter
    /// cannot wander into `secret.creds`. A table the allowlist names is allowed whatever its schema.
    public var allowedSchemas: Set<String> = []
    /// Tables no filter ever reads, whatever the allowlists say, by their last name part: the
    /// service's own (`jobs` holds every job's kwargs).
    public var protectedTables: Set<String> = []

    public init(allowedTables: Set<String>? = nil, allowedSchemas: Set<String> = [], protectedTables: Set<String> = []) {
        self.allowedTables = allowedTables
        self.allowedSchemas = allowedSchemas
        self.protectedTables = protectedTables
    }

    /// How deep the JSON of the deepest document these limits accept nests: every sub-select
    /// level (and the top) with its `$or`/`$and` groups at their deepest (two levels each: a
    /// list, then an object) and a few levels of keys around them. A reader of whole request
    /// bodies must accept at least this much, so that a filter limit, not a JSON one, is what
    /// a deep document meets.
    public var deepestNesting: Int { (maximumSubselectDepth + 1) * (2 * maximumGroupDepth + 8) + 16 }

    public static let standard = FilterLimits()
}
