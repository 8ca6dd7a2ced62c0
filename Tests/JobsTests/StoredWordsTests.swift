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
}
