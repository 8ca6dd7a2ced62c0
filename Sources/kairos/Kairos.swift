import API
import ArgumentParser
import Foundation
import Jobs
import Logging
import Postgres

@main
struct Kairos: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kairos",
        abstract: "A job-scheduling REST service: periodic and one-shot jobs in PostgreSQL, fired on time.",
        version: KairosVersion.current,
        subcommands: [Serve.self, Migrate.self, Bench.self],
        defaultSubcommand: Serve.self)
}

/// Flags shared by the subcommands; each overrides its environment variable.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq connection string or postgresql:// URI (env: DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env: KAIROS_LOG_LEVEL).")
    var logLevel: String?

    var flags: ServiceConfiguration.Flags {
        ServiceConfiguration.Flags(databaseURL: databaseURL, logLevel: logLevel)
    }
}

extension ServiceConfiguration {
    /// Resolves flags over the environment, or exits with the configuration error.
    static func resolveOrExit(_ flags: Flags) throws -> ServiceConfiguration {
        do {
            return try resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// The service's logger: JSON lines on standard error (see ``JSONLogHandler``) at `level`.
func makeLogger(level: Logger.Level) -> Logger {
    Logger(label: "kairos") { label in JSONLogHandler(label: label, level: level) }
}
