extension PostgresConnection {
    /// Runs `body` where nothing can be written and every statement is cancelled after
    /// `timeout` (SQLSTATE 57014), for running queries built from user input.
    ///
    /// On an idle connection that is a read-only transaction of its own. Inside a transaction
    /// it is a savepoint, rolled back when `body` ends, so the settings, and any error the body
    /// met, stay inside it: the outer transaction goes on with its own writes and locks. This is
    /// how a firing reads `$filter` rows within the transaction that claimed the job.
    ///
    /// - Throws: the body's error unchanged, or a ``PostgresError`` from setting up the scope.
    public func withReadOnlyScope<T>(timeout: Duration, _ body: (PostgresConnection) throws -> T) throws -> T {
        guard !isIdle else {
            return try withTransaction(.readOnly(timeout: timeout), body)
        }
        try execute("SAVEPOINT kairos_read_only")
        let outerTimeout = localStatementTimeout
        let result: Result<T, any Error>
        do {
            // Both settings are local to the savepoint: rolling back to it restores the outer
            // transaction's (PostgreSQL keeps them only when a savepoint is released).
            try setLocalStatementTimeout(timeout, alsoSetting: "set_config('transaction_read_only', 'on', true)")
            result = .success(try body(self))
        } catch {
            result = .failure(error)
        }
        localStatementTimeout = outerTimeout
        try execute("ROLLBACK TO SAVEPOINT kairos_read_only")
        try execute("RELEASE SAVEPOINT kairos_read_only")
        return try result.get()
    }
}
