import Chronology
import SQLBuilding

/// What retention deletes, a bounded batch at a time. Each statement picks its rows through
/// an index on their time (migration 11), skips rows another replica's sweep has locked, and
/// deletes at most `limit`: a short transaction, never a long lock.
enum RetentionTable {
    /// The kinds of rows retention removes once they are older than the retention period.
    enum Kind: String, CaseIterable, Sendable {
        /// Runs in a final state, by when they ended (with their deliveries, by cascade).
        case runs
        /// Flows in a final state, by when they were posted.
        case flows
        /// fabric8's failure records (`job_type=failed`), by when they were written.
        case failureRecords = "failure_records"
    }

    static func deleteBatch(_ kind: Kind, olderThan cutoff: Timestamp, limit: Int) -> SQL {
        switch kind {
        case .runs:
            return """
                DELETE FROM runs WHERE id IN (
                    SELECT id FROM runs WHERE finished_at IS NOT NULL AND finished_at < \(cutoff)
                    ORDER BY finished_at LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                """
        case .flows:
            return """
                DELETE FROM flows WHERE id IN (
                    SELECT id FROM flows WHERE state IN ('completed', 'failed', 'trashed') AND created_at < \(cutoff)
                    ORDER BY created_at LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                """
        case .failureRecords:
            return """
                DELETE FROM jobs WHERE job_id IN (
                    SELECT job_id FROM jobs WHERE \(FailureRecords.isRecord) AND created_at < \(cutoff)
                    ORDER BY created_at LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                """
        }
    }
}
