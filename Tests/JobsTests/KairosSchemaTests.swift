import Jobs
import Postgres
import TestSupport
import Testing

@Suite struct KairosSchemaTests {
    @Test func migrationsApplyToAnEmptySchemaThenFindNothingToDo() async throws {
        try await withSchemaConnection { connection in
            #expect(try Migrator.migrate(KairosSchema.migrations, on: connection).count == KairosSchema.migrations.count)
            #expect(try Migrator.migrate(KairosSchema.migrations, on: connection).isEmpty)
            #expect(try Migrator.pendingMigrations(KairosSchema.migrations, on: connection).isEmpty)
            let state = try connection.query("SELECT state FROM service_state")[0].decode(String.self, column: "state")
            #expect(state == "running")
        }
    }
}

extension KairosSchemaTests {
    /// Migration 6 over a database that already has runs and flows: each run's status comes from
    /// its flows, a run still open has no finish time, and jobs get the default work policy.
    @Test func runStatusIsDerivedForRunsMadeBeforeIt() async throws {
        try await withSchemaConnection { connection in
            _ = try Migrator.migrate(Array(KairosSchema.migrations.prefix(5)), on: connection)
            try connection.executeScript("""
                INSERT INTO jobs (job_id, handler, kwargs, start_at, state, origin)
                VALUES ('old', 'FlowScheduling', '{"flow_name": "f"}', '2026-01-01', 'paused', 'api');
                INSERT INTO runs (job_id, scheduled_for, cause, outcome, claimed_at, started_at, finished_at, flows_posted) VALUES
                    ('old', '2026-01-01 00:00', 'schedule', 'succeeded', '2026-01-01', '2026-01-01', '2026-01-01', 2),
                    ('old', '2026-01-01 01:00', 'schedule', 'succeeded', '2026-01-01', '2026-01-01', '2026-01-01', 2),
                    ('old', '2026-01-01 02:00', 'schedule', 'succeeded', '2026-01-01', '2026-01-01', '2026-01-01', 2),
                    ('old', '2026-01-01 03:00', 'schedule', 'succeeded', '2026-01-01', '2026-01-01', '2026-01-01', 1),
                    ('old', '2026-01-01 04:00', 'schedule', 'missed', '2026-01-01', NULL, '2026-01-01', 0),
                    ('old', '2026-01-01 05:00', 'schedule', 'failed', '2026-01-01', '2026-01-01', '2026-01-01', 0);
                INSERT INTO flows (flow_name, arguments, job_id, scheduled_for, position, state) VALUES
                    ('f', 'null', 'old', '2026-01-01 00:00', 0, 'completed'), ('f', 'null', 'old', '2026-01-01 00:00', 1, 'unclaimed'),
                    ('f', 'null', 'old', '2026-01-01 01:00', 0, 'completed'), ('f', 'null', 'old', '2026-01-01 01:00', 1, 'failed'),
                    ('f', 'null', 'old', '2026-01-01 02:00', 0, 'completed'), ('f', 'null', 'old', '2026-01-01 02:00', 1, 'trashed'),
                    ('f', 'null', 'old', '2026-01-01 03:00', 0, 'completed');
                """)
            #expect(try Migrator.migrate(Array(KairosSchema.migrations.prefix(6)), on: connection).map(\.version) == [6])
            let rows = try connection.query("SELECT status, finished_at IS NULL AS open FROM runs ORDER BY scheduled_for")
            let statuses = try rows.map { try $0.decode(String.self, column: "status") }
            #expect(statuses == ["pending", "failed", "cancelled", "succeeded", "missed", "failed"])
            #expect(try rows.map { try $0.decode(Bool.self, column: "open") } == [true, false, false, false, false, false])
            let job = try connection.query("SELECT priority, max_attempts, retry_delay_us, overlap FROM jobs")[0]
            #expect(try job.decode(Int.self, column: "priority") == 2 && job.decode(Int.self, column: "max_attempts") == 1)
            #expect(try job.decode(Int64.self, column: "retry_delay_us") == 10_000_000 && job.decode(String.self, column: "overlap") == "allow_all")
        }
    }
}
