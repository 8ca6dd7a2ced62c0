import API
import ArgumentParser
import Jobs
import Postgres

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit (serve also does this at boot).")

    @OptionGroup var common: CommonOptions

    func run() throws {
        let configuration = try ServiceConfiguration.resolveOrExit(common.flags)
        var database = PostgresConfiguration(configuration.databaseURL)
        database.logger = makeLogger(level: configuration.logLevel)
        let connection = try PostgresConnection.connect(database)
        let applied = try Migrator.migrate(KairosSchema.migrations, on: connection)
        if applied.isEmpty {
            print("The database is up to date (\(KairosSchema.migrations.count) migrations).")
        } else {
            for migration in applied { print("applied \(migration.version): \(migration.name)") }
        }
    }
}
