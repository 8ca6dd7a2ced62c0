import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct MigratorTests {
    static let steps = [
        Migration(version: 1, name: "create items", sql: "CREATE TABLE items (id int PRIMARY KEY, name text);"),
        Migration(version: 2, name: "seed", sql: "INSERT INTO items VALUES (1, 'first'); INSERT INTO items VALUES (2, 'second');"),
        Migration(version: 3, name: "add column", sql: "ALTER TABLE items ADD COLUMN note text;"),
    ]

    @Test func appliesPendingStepsOnceInOrder() async throws {
        try await withSchemaConnection { connection in
            #expect(try Migrator.pendingMigrations(Self.steps, on: connection).map(\.version) == [1, 2, 3])
            let firstTwo = try Migrator.migrate(Array(Self.steps.prefix(2)), on: connection)
            #expect(firstTwo.map(\.version) == [1, 2])
            #expect(try Migrator.pendingMigrations(Self.steps, on: connection).map(\.version) == [3])
            #expect(try Migrator.migrate(Self.steps, on: connection).map(\.version) == [3])
            #expect(try Migrator.migrate(Self.steps, on: connection).isEmpty)
            let recorded = try connection.query("SELECT version, name FROM schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.decode(String.self, column: "name") } == ["create items", "seed", "add column"])
        }
    }

    @Test func twoConcurrentRunsApplyEveryStepExactlyOnce() async throws {
        try await TestDatabase.withSchema { configuration in
            try await onThread {
                let applied = LockedBox<[[Int]]>([])
                let group = DispatchGroup()
                for _ in 0..<2 {
                    group.enter()
                    Thread.detachNewThread {
                        defer { group.leave() }
                        do {
                            let connection = try PostgresConnection.connect(configuration)
                            let versions = try Migrator.migrate(Self.steps, on: connection).map(\.version)
                            applied.update { $0.append(versions) }
                        } catch {
                            Issue.record("a migration run failed: \(error)")
                        }
                    }
                }
                group.wait()
                #expect(applied.get().sorted { $0.count < $1.count } == [[], [1, 2, 3]])
                let connection = try PostgresConnection.connect(configuration)
                #expect(try connection.query("SELECT count(*) AS n FROM items")[0].decode(Int.self, column: "n") == 2)
                #expect(try connection.query("SELECT count(*) AS n FROM schema_migrations")[0].decode(Int.self, column: "n") == 3)
            }
        }
    }

    @Test func aFailingStepRollsBackEveryPendingStepAndNamesItself() async throws {
        try await withSchemaConnection { connection in
            let broken = [Self.steps[0], Migration(version: 2, name: "typo", sql: "INSERT INTO itemz VALUES (1);")]
            do {
                try Migrator.migrate(broken, on: connection)
                Issue.record("a broken migration applied")
            } catch let error as PostgresError {
                #expect(error.message == "migration 2 (typo) failed: relation \"itemz\" does not exist")
                #expect(error.sqlState == SQLState.undefinedTable)
            }
            #expect(try connection.query("SELECT to_regclass('items') IS NULL AS gone")[0].decode(Bool.self, column: "gone"))
            #expect(try Migrator.pendingMigrations(Self.steps, on: connection).count == 3)
        }
    }

    @Test func anEditedStepIsRefused() async throws {
        try await withSchemaConnection { connection in
            try Migrator.migrate(Self.steps, on: connection)
            var edited = Self.steps
            edited[1] = Migration(version: 2, name: "seed", sql: "INSERT INTO items VALUES (3, 'third');")
            #expect(throws: MigrationError.edited(version: 2, name: "seed")) { try Migrator.migrate(edited, on: connection) }
        }
    }

    @Test func stepsOutOfOrderAreRefused() async throws {
        try await withSchemaConnection { connection in
            #expect(throws: MigrationError.outOfOrder(previous: 2, next: 1)) {
                try Migrator.migrate([Self.steps[1], Self.steps[0]], on: connection)
            }
        }
    }
}
