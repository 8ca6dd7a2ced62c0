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
        subcommands: [Serve.self, Migrate.self],
        defaultSubcommand: Serve.self)
}

extension ServiceConfiguration {
    /// Resolves flags over the environment, or exits with the configuration error.
    static func resolveOrExit(_ flags: some ServiceFlags) throws -> ServiceConfiguration {
        do {
            return try resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// The service's logger: JSON lines on standard error (see ``JSONLogHandler``) at `level`,
/// written in batches by ``LogSink``, which is flushed as the process exits.
func makeLogger(level: Logger.Level) -> Logger {
    _ = flushLogAtExit
    return Logger(label: "kairos") { label in JSONLogHandler(label: label, level: level) }
}

/// Registered once: lines logged just before an exit (an error at startup, the last lines of a
/// shutdown) reach standard error.
private let flushLogAtExit: Void = {
    atexit { LogSink.standardError.flush() }
}()
