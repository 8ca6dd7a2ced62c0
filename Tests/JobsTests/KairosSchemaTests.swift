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
