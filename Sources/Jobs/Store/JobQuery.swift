/// Which jobs `GET /jobs` lists and which page of them: a listing, narrowed by an id prefix and
/// a state, paged in `job_id` order.
public struct JobQuery: Sendable, Equatable {
    public var listing: JobStore.Listing
    /// Only jobs whose id starts with these bytes (compared exactly, not by collation).
    public var idPrefix: String?
    /// Only jobs in this state (within the listing: `all` has no finished jobs).
    public var state: JobState?
    /// Only failure records of this job (the listing must be `failed`).
    public var failedJobID: String?
    /// The jobs after this id: a keyset, as fast on the last page as on the first.
    public var after: String?
    public var limit: Int
    /// Then this many skipped.
    public var offset: Int

    public init(
        listing: JobStore.Listing = .all, idPrefix: String? = nil, state: JobState? = nil, failedJobID: String? = nil, after: String? = nil,
        limit: Int, offset: Int = 0
    ) {
        self.listing = listing
        self.idPrefix = idPrefix
        self.state = state
        self.failedJobID = failedJobID
        self.after = after
        self.limit = limit
        self.offset = offset
    }
}
