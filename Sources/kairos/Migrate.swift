import API
import ArgumentParser
import Jobs
import Postgres

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit (serve also does this at boot).")

    @Option(name: .customLong("database-url"), help: "libpq connection string or postgresql:// URI (env: DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env: KAIROS_LOG_LEVEL).")
    var logLevel: String?

    func run() throws {
        let configuration = try ServiceConfiguration.resolveOrExit(ServiceConfiguration.Flags(databaseURL: databaseURL, logLevel: logLevel))
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
