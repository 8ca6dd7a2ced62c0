import Chronology
import Jobs
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// A state word a later migration might add is an error naming it, never read as some default.
@Suite struct StoredWordsTests {
    @Test(arguments: [("state", "exploded"), ("origin", "martian")])
    func anUnknownJobWordThrowsNamingColumnAndValue(column: String, word: String) async throws {
        let script: SQL =
            column == "state"
            ? "ALTER TABLE jobs DROP CONSTRAINT jobs_check; ALTER TABLE jobs DROP CONSTRAINT jobs_state_check; UPDATE jobs SET state = 'exploded'"
            : "ALTER TABLE jobs DROP CONSTRAINT jobs_origin_check; UPDATE jobs SET origin = 'martian'"
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "10s", when: t(10)), now: t(0))
            try db.pool.withConnection { try $0.executeScript(script) }
            do {
                _ = try db.store.job("a")
                Issue.record("the unknown word was read")
            } catch let error as PostgresError {
                #expect(error.kind == .decoding)
                #expect(error.message.contains("column \"\(column)\""), "\(error.message)")
                #expect(error.message.contains("\"\(word)\""), "\(error.message)")
            }
        }
    }

    @Test func anUnknownRunOutcomeOrFlowStateThrowsToo() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("a", every: "10s", when: t(10)), now: t(0))
            #expect(try db.fireDue(at: t(10)).succeeded == 1)
            try db.pool.withConnection { connection in
                try connection.executeScript("""
                    ALTER TABLE runs DROP CONSTRAINT runs_outcome_check; UPDATE runs SET outcome = 'running';
                    ALTER TABLE flows DROP CONSTRAINT flows_state_check; UPDATE flows SET state = 'lost';
                    """)
            }
            #expect(throws: PostgresError.self) { try db.runs(of: "a") }
            #expect(throws: PostgresError.self) { try FlowBoard(pool: db.pool).flows(.init()) }
            #expect(throws: PostgresError.self) { try FlowBoard(pool: db.pool).countsByState(timeout: .seconds(10)) }
        }
    }

    /// A due job that cannot be read fails alone: its firing is a failed run with a failure
    /// record, it is paused, and every other job of the batch fires, then and afterwards.
    @Test func aDueJobThatCannotBeReadFailsAloneAndIsPaused() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("good", every: "10s", when: t(10)), now: t(0))
            try db.save(flowJob("bad", every: "10s", when: t(10)), now: t(0))
            try db.pool.withConnection { connection in
                try connection.executeScript("ALTER TABLE jobs DROP CONSTRAINT jobs_origin_check; UPDATE jobs SET origin = 'martian' WHERE job_id = 'bad'")
            }
            let report = try db.fireDue(at: t(10))
            #expect(report.claimed == 2 && report.succeeded == 1 && report.failed == 1)
            let bad = try db.pool.withConnection { try $0.query("SELECT state, next_run_time FROM jobs WHERE job_id = 'bad'")[0] }
            #expect(try bad.decode(String.self, column: "state") == "paused")
            #expect(try bad.decode(Timestamp?.self, column: "next_run_time") == nil)
            let runs = try db.pool.withConnection { try $0.query("SELECT outcome, error FROM runs WHERE job_id = 'bad'") }
            #expect(try runs.map { try $0.decode(String.self, column: "outcome") } == ["failed"])
            #expect(try runs.first?.decode(String.self, column: "error").contains("\"martian\"") == true)
            let records = try db.store.jobs(.failed)
            #expect(records.map { $0.kwargs["failed_job_id"] } == ["bad"])
            // The next slot: the good job alone.
            let next = try db.fireDue(at: t(20))
            #expect(next.claimed == 1 && next.succeeded == 1)
        }
    }

    /// Even when its slot already has a run (so no new run is recorded), an unreadable due job is
    /// paused: left due, it would be claimed again on every loop.
    @Test func anUnreadableJobWhoseSlotHasARunIsPausedToo() async throws {
        try await JobsFixture.with { db in
            try db.save(flowJob("bad", every: "10s", when: t(10)), now: t(0))
            #expect(try db.runNow("bad", at: t(10))?.scheduledFor == t(10))
            try db.pool.withConnection { connection in
                try connection.executeScript("ALTER TABLE jobs DROP CONSTRAINT jobs_origin_check; UPDATE jobs SET origin = 'martian' WHERE job_id = 'bad'")
            }
            let report = try db.fireDue(at: t(10))
            #expect(report.claimed == 1 && report.failed == 0)
            #expect(try db.fireDue(at: t(11)).claimed == 0)
            let state = try db.pool.withConnection { try $0.query("SELECT state FROM jobs WHERE job_id = 'bad'")[0].decode(String.self, column: "state") }
            #expect(state == "paused")
        }
    }
}
