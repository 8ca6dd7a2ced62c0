import FilterQuery

/// How Kairos runs `$filter` queries: what a document may ask for, how long its query may run
/// and how many rows it may match. One policy serves validation, firing and the debug endpoints.
/// Kairos's own tables (``KairosSchema/tableNames``) are never readable through it, whatever
/// the limits given say.
public struct FilterPolicy: Sendable, Equatable {
    public var limits: FilterLimits {
        didSet { limits.protectedTables.formUnion(KairosSchema.tableNames) }
    }
    /// Each filter query is cancelled after this long. Default 30 s.
    public var statementTimeout: Duration
    /// More matching rows than this is an error, never a silent truncation. Default 100,000.
    public var maximumRows: Int
    /// Bytes (as compact JSON) that one expansion, or all the flow arguments of one firing, may
    /// come to; checked as rows are merged with the extra keys, so memory stays near it.
    /// Default 32 MiB.
    public var maximumBytes: Int

    public static let defaultMaximumBytes = 32 << 20

    /// `$filter` expansions the API runs at once (the debug endpoint's), a bounded share of its
    /// database connections: more wait a moment, then get a 503. Default 4 of the pool's 16.
    public var maximumConcurrentExpansions = 4

    public init(
        limits: FilterLimits = .standard, statementTimeout: Duration = .seconds(30), maximumRows: Int = 100_000,
        maximumBytes: Int = FilterPolicy.defaultMaximumBytes
    ) {
        self.maximumBytes = maximumBytes
        var protected = limits
        protected.protectedTables.formUnion(KairosSchema.tableNames)
        self.limits = protected
        self.statementTimeout = statementTimeout
        self.maximumRows = maximumRows
    }

    public static let standard = FilterPolicy()
}
