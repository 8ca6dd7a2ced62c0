import JSON
import Postgres
import SQLBuilding

/// The statements on failure records: the rows of `jobs` with origin `failure` (see
/// ``FailureRecord``).
enum FailureRecords {
    /// The condition that picks them out of `jobs`.
    static let isRecord: SQL = "origin = 'failure'"

    /// Records many failures in one statement, each a paused job with a new random id.
    static func failureRecordInsertMany(_ records: [FailureRecord]) -> SQL {
        """
        INSERT INTO jobs (job_id, handler, kwargs, start_at, state, origin)
        SELECT gen_random_uuid()::text, \(FailureRecord.handlerName), r.kwargs, r.start_at, 'paused', 'failure'
        FROM unnest(\(records.map { JSONValue.object($0.kwargs) }), \(records.map(\.scheduledFor))) AS r(kwargs, start_at)
        """
    }

    static let failureRecordDeleteAll: SQL = "DELETE FROM jobs WHERE \(isRecord) RETURNING job_id"
}
