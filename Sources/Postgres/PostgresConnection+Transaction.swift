import SQLBuilding

/// How a transaction begins.
public struct TransactionOptions: Sendable {
    public enum Isolation: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    public var isolation: Isolation = .readCommitted
    /// Refuse every write: the server fails any INSERT, UPDATE, DELETE or DDL with SQLSTATE 25006.
    public var readOnly = false
    /// Cancel any statement of the transaction that runs longer than this (SQLSTATE 57014); nil keeps the session's.
    public var statementTimeout: Duration?

    public init(isolation: Isolation = .readCommitted, readOnly: Bool = false, statementTimeout: Duration? = nil) {
        self.isolation = isolation
        self.readOnly = readOnly
        self.statementTimeout = statementTimeout
    }

    /// A read-only transaction whose statements are cancelled after `timeout`, for running
    /// queries built from user input.
    public static func readOnly(timeout: Duration) -> TransactionOptions {
        TransactionOptions(readOnly: true, statementTimeout: timeout)
    }

    /// `duration` in whole milliseconds, at least 1: PostgreSQL reads a `statement_timeout` of 0 as "none".
    static func milliseconds(_ duration: Duration) -> Int64 {
        max(1, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    var beginStatement: SQL {
        switch (isolation, readOnly) {
        case (.readCommitted, false): return "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
        case (.readCommitted, true): return "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
        case (.repeatableRead, false): return "BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE"
        case (.repeatableRead, true): return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        case (.serializable, false): return "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE"
        case (.serializable, true): return "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
        }
    }
}

extension PostgresConnection {
    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws and
    /// rethrows its error unchanged. `body` gets this connection; it must not keep it.
    ///
    /// BEGIN is sent with the body's first statement, in the same round trip: a transaction of
    /// two statements costs three trips (BEGIN and the first, the second, COMMIT), not four.
    ///
    /// ```swift
    /// try connection.withTransaction(.readOnly(timeout: .seconds(30))) { tx in
    ///     try tx.query(compiledFilter)
    /// }
    /// ```
    ///
    /// - Throws: the body's error, or a ``PostgresError`` from BEGIN or COMMIT (a commit can
    ///   fail, for example with a serialization failure; nothing was then committed).
    @discardableResult
    public func withTransaction<T>(
        _ options: TransactionOptions = TransactionOptions(), _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        if isIdle {
            pendingBegin = options.beginStatement
        } else {
            try execute(options.beginStatement)  // PostgreSQL warns and goes on, as it always did here
        }
        let value: T
        do {
            if let timeout = options.statementTimeout { try setLocalStatementTimeout(timeout) }
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        do {
            // COMMIT in a failed transaction "succeeds" as a ROLLBACK; a body that caught a
            // statement's error and returned must not be told its work was committed.
            guard !isInFailedTransaction else {
                throw PostgresError(
                    kind: .server, message: "the transaction was aborted by an earlier error and has been rolled back",
                    sqlState: "25P02")
            }
            let held = atCommit
            let followUps = afterCommit
            atCommit = []
            afterCommit = []
            if pendingBegin != nil && held.isEmpty {
                pendingBegin = nil  // the body ran no statement: nothing was begun, nothing to commit
                if !followUps.isEmpty {
                    do { _ = try queries(followUps) } catch { reportFollowUpFailure(error) }
                }
            } else if held.isEmpty && followUps.isEmpty {
                try execute("COMMIT")
            } else if let failure = try commit(holding: held, thenRunning: followUps) {
                reportFollowUpFailure(failure)
            }
        } catch {
            rollbackQuietly()
            throw error
        }
        return value
    }

    /// Runs `sql` with the transaction's COMMIT, in the same round trip, after the body returns:
    /// for a last write whose answer the body does not need. Should it fail, so does the
    /// commit: nothing of the transaction is kept, and ``withTransaction(_:_:)`` throws its error.
    /// Statements held this way run in the order given, after every statement run directly.
    public func executeAtCommit(_ sql: SQL) {
        precondition(!isIdle, "executeAtCommit is for a transaction's statements")
        atCommit.append(sql)
    }

    /// Runs `sql` once the transaction has committed, in the COMMIT's round trip, with the other
    /// follow-ups in a transaction of their own (a failure skips those after it): work that must
    /// see what was committed (settling the runs of the flows a transaction ended, which a
    /// statement inside it could not judge for flows other transactions end at the same moment).
    /// The commit stands whatever it does: a failure is logged, not thrown. Nothing runs when
    /// the transaction rolls back or its COMMIT fails.
    public func executeAfterCommit(_ sql: SQL) {
        precondition(!isIdle, "executeAfterCommit is for a transaction's statements")
        afterCommit.append(sql)
    }

    private func reportFollowUpFailure(_ error: PostgresError) {
        logger.warning("a statement run after a commit failed; the commit stands", metadata: ["error": "\(error)"])
    }

    /// Sets `statement_timeout` for the rest of the transaction or savepoint (the server drops it
    /// when that ends), and with it the client's deadline for each statement.
    func setLocalStatementTimeout(_ timeout: Duration, alsoSetting extra: SQL? = nil) throws(PostgresError) {
        let milliseconds = String(TransactionOptions.milliseconds(timeout))
        if let extra {
            try execute("SELECT set_config('statement_timeout', \(milliseconds), true), \(extra)")
        } else {
            try execute("SELECT set_config('statement_timeout', \(milliseconds), true)")
        }
        localStatementTimeout = timeout
    }

    /// Rolls back whatever is open; a failure here (a lost connection) changes nothing for the
    /// caller, who is already reporting the error that caused the rollback.
    func rollbackQuietly() {
        atCommit = []
        afterCommit = []
        if pendingBegin != nil {
            pendingBegin = nil  // never sent: there is nothing to roll back
            return
        }
        guard isConnected, !isIdle else { return }
        do {
            try execute("ROLLBACK")
        } catch {
            logger.debug("rollback failed", metadata: ["error": "\(error)"])
        }
    }
}
