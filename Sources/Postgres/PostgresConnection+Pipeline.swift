import CLibPQ
import SQLBuilding

extension PostgresConnection {
    /// Runs `statements` in one round trip (libpq's pipeline mode) and returns each one's rows,
    /// in order: for a page and its count, or a job and its runs, the server is asked once and
    /// answers once, instead of once per statement.
    ///
    /// Outside a transaction they run as one implicit transaction: reads see one snapshot, and
    /// should one statement fail, none of them leaves an effect. Inside a transaction they are
    /// its next statements. The first to fail is thrown; those after it are not run.
    ///
    /// ```swift
    /// let answers = try connection.queries([pageOfJobs, countOfJobs])
    /// let total = try answers[1][0].decode(Int.self, column: "n")   // answers[0] is the page
    /// ```
    ///
    /// Statements seen before are prepared and executed as ``query(_:)`` does, in the same trip.
    public func queries(_ statements: [SQL]) throws(PostgresError) -> [PostgresRows] {
        guard !statements.isEmpty else { return [] }
        if pendingBegin == nil && statements.count == 1 { return [try query(statements[0])] }
        let rendered = statements.map { $0.rendered() }
        // What can be refused before anything is sent is refused first (before the pending
        // BEGIN is taken, too): once a statement is queued, a failure to send the rest leaves
        // the connection mid-pipeline, and it is closed.
        for (text, parameters) in rendered { try checkParameters(parameters, sql: text) }
        if let begin = pendingBegin {
            // The transaction's BEGIN, in the same trip as its first statements.
            pendingBegin = nil
            do {
                return Array(try runPipeline([begin.rendered()] + rendered).dropFirst())
            } catch let error where Self.invalidatesPrepared(error) {
                forgetPrepared(rendered)
                throw error
            }
        }
        let outsideTransaction = isIdle
        do {
            return try runPipeline(rendered)
        } catch let error where Self.invalidatesPrepared(error) {
            // As for one statement: a prepared one no longer stands for its text (a replica's
            // migration), so it is forgotten, in a transaction too (or it would fail there
            // every time); outside one nothing of the pipeline took effect: run it again unnamed.
            forgetPrepared(rendered)
            guard outsideTransaction else { throw error }
            return try runPipeline(rendered, preparing: false)
        }
    }

    private func forgetPrepared(_ rendered: [(text: String, parameters: [SQLValue])]) {
        for (text, parameters) in rendered { prepared[StatementKey(text: text, types: parameters.map(\.type.oid))] = nil }
    }

    /// What the pipeline sent for one statement: whose results to read, in order.
    private struct Sent {
        let text: String
        /// The statement is being prepared in this trip as this name (a result of its own).
        let preparing: (key: StatementKey, name: String)?
    }

    /// Commits the transaction under way with `held` (its statements for the COMMIT's trip), then
    /// runs `followUps` as a transaction of their own, all in one round trip. They follow the
    /// COMMIT before the pipeline's sync: should the COMMIT (or a held statement) fail, the
    /// server skips them. Throws what failed before or at the COMMIT (nothing was committed
    /// then); returns what failed after it, the commit standing (a connection lost after the
    /// COMMIT's answer was read is closed, and reported the same way).
    func commit(holding held: [SQL], thenRunning followUps: [SQL]) throws(PostgresError) -> PostgresError? {
        var committing = (held + ["COMMIT"]).map { $0.rendered() }
        let following = followUps.map { $0.rendered() }
        for (text, parameters) in committing + following { try checkParameters(parameters, sql: text) }
        if let begin = pendingBegin {
            pendingBegin = nil
            committing.insert(begin.rendered(), at: 0)
        }
        let outcome = try runPipeline(committing + following, losingTheConnectionIsFineAfter: committing.count - 1)
        guard let failure = outcome.failure else { return nil }
        if Self.invalidatesPrepared(failure.error) { forgetPrepared(committing + following) }
        if failure.index < committing.count { throw failure.error }
        return failure.error
    }

    /// Sends `rendered` (its parameters checked) in one pipeline and reads every answer.
    private func runPipeline(_ rendered: [(text: String, parameters: [SQLValue])], preparing: Bool = true) throws(PostgresError) -> [PostgresRows] {
        let outcome = try runPipeline(rendered, preparing: preparing, losingTheConnectionIsFineAfter: nil)
        if let failure = outcome.failure { throw failure.error }
        return outcome.answers
    }

    /// What a pipeline answered: each statement's rows up to the first failure, and that failure
    /// with the statement's position.
    private struct PipelineOutcome {
        var answers: [PostgresRows] = []
        var failure: (index: Int, error: PostgresError)?
    }

    /// Sends `rendered` (its parameters checked) in one pipeline and reads every answer. Throws
    /// only when the connection fails; when it fails while reading the answer of a statement
    /// after position `tolerated`, the connection is closed and that is the outcome's failure.
    private func runPipeline(
        _ rendered: [(text: String, parameters: [SQLValue])], preparing: Bool = true, losingTheConnectionIsFineAfter tolerated: Int?
    ) throws(PostgresError) -> PipelineOutcome {
        let summary = "a pipeline of \(rendered.count) statements"
        guard PQenterPipelineMode(handle) == 1 else { throw lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: summary) }
        defer {
            if PQexitPipelineMode(handle) != 1 { abandon() }  // results left unread: the connection cannot go on
            // As after any statement: a transaction's own timeout ends with it.
            if isIdle { localStatementTimeout = nil }
        }
        var sent: [Sent] = []
        // A statement twice in one trip is prepared once: the second use names the first's.
        var preparedInThisTrip: [StatementKey: String] = [:]
        for (text, parameters) in rendered {
            sent.append(try send(text, parameters, preparing: preparing, preparedBefore: &preparedInThisTrip))
        }
        guard PQpipelineSync(handle) == 1 else { throw abandoning(sql: summary) }

        // Every result is read, up to the sync, whatever failed: the connection is then ready
        // for its next statement.
        var outcome = PipelineOutcome()
        for (index, statement) in sent.enumerated() {
            do throws(PostgresError) {
                if let preparing = statement.preparing {
                    let prepared = try pipelineResult(sql: statement.text)
                    if prepared.status == PGRES_COMMAND_OK { preparedNow(preparing.key, as: preparing.name) }
                    if outcome.failure == nil, let error = prepared.error { outcome.failure = (index, error) }
                }
                let answer = try pipelineResult(sql: statement.text)
                if outcome.failure == nil, let error = answer.error { outcome.failure = (index, error) }
                if let rows = answer.rows { outcome.answers.append(rows) }
            } catch {
                guard let tolerated, index > tolerated else { throw error }
                abandon()
                if outcome.failure == nil { outcome.failure = (index, error) }
                return outcome
            }
        }
        do throws(PostgresError) {
            let sync = try pipelineResult(sql: summary, endsWithNull: false)
            if outcome.failure == nil, sync.status != PGRES_PIPELINE_SYNC {
                outcome.failure = (sent.count, sync.error ?? lostOrFailed(message: "the pipeline did not end with its sync", sql: summary))
            }
        } catch {
            guard tolerated != nil else { throw error }
            abandon()
            if outcome.failure == nil { outcome.failure = (sent.count, error) }
        }
        return outcome
    }

    /// Queues one statement of a pipeline: by a name prepared before or in this trip, prepared
    /// now when seen before, else unnamed.
    private func send(
        _ text: String, _ parameters: [SQLValue], preparing: Bool, preparedBefore: inout [StatementKey: String]
    ) throws(PostgresError) -> Sent {
        let key = StatementKey(text: text, types: parameters.map(\.type.oid))
        var name: String?
        var preparingNow: (key: StatementKey, name: String)?
        let how: Preparation = !preparing ? .unnamed : preparedBefore[key].map(Preparation.prepared) ?? preparation(for: key)
        switch how {
        case .prepared(let prepared):
            name = prepared
        case .prepareNow(let fresh):
            let types = key.types.map { Oid($0) }
            let queued = types.withUnsafeBufferPointer { PQsendPrepare(handle, fresh, text, Int32(types.count), $0.baseAddress) }
            guard queued == 1 else { throw abandoning(sql: text) }
            name = fresh
            preparingNow = (key, fresh)
            preparedBefore[key] = fresh
        case .unnamed:
            break
        }
        let queued = try withParameters(parameters, sql: text) { types, values in
            if let name { return PQsendQueryPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0) }
            return PQsendQueryParams(handle, text, Int32(parameters.count), types, values, nil, nil, 0)
        }
        guard queued == 1 else { throw abandoning(sql: text) }
        return Sent(text: text, preparing: preparingNow)
    }

    /// libpq refused to queue what the pipeline needs (the connection broke): closed, as it
    /// cannot be brought back to a known state.
    private func abandoning(sql: String) -> PostgresError {
        let error = lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: sql)
        abandon()
        return error
    }

    /// One statement's results in the pipeline, up to the null that ends them (the sync's has
    /// none): its rows, or the error it met; a statement skipped after an earlier error has neither.
    private func pipelineResult(sql: String, endsWithNull: Bool = true) throws(PostgresError) -> (status: ExecStatusType, rows: PostgresRows?, error: PostgresError?) {
        var kept: OpaquePointer?
        var results = 0
        try collectResults(sent: true, sql: sql, deadline: nil) { result in
            results += 1
            if let earlier = kept { PQclear(earlier) }
            kept = result
            return endsWithNull
        }
        guard let kept else { return (PGRES_FATAL_ERROR, nil, lostOrFailed(message: Self.errorText(PQerrorMessage(handle)), sql: sql)) }
        let status = PQresultStatus(kept)
        switch status {
        case PGRES_PIPELINE_ABORTED, PGRES_PIPELINE_SYNC:
            PQclear(kept)
            return (status, nil, nil)
        default:
            do {
                return (status, try checked(kept, sql: sql), nil)
            } catch {
                return (status, nil, error)
            }
        }
    }
}
