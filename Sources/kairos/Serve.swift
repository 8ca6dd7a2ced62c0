import API
import ArgumentParser
import Dispatch
import Foundation
import Jobs
import Logging
import Postgres

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to PostgreSQL, apply migrations and serve until SIGTERM or SIGINT.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (env: KAIROS_HOST).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env: KAIROS_PORT).")
    var port: Int?

    @Option(help: "Comma-separated API tokens (env: KAIROS_API_TOKENS).")
    var apiTokens: String?

    @Option(help: "Directory of default job files (env: KAIROS_DEFAULT_JOBS_DIR).")
    var defaultJobsDir: String?

    func run() throws {
        var flags = common.flags
        flags.host = host
        flags.port = port
        flags.apiTokens = apiTokens
        flags.defaultJobsDirectory = defaultJobsDir
        let configuration = try ServiceConfiguration.resolveOrExit(flags)
        let logger = makeLogger(level: configuration.logLevel)

        var database = PostgresConfiguration(configuration.databaseURL)
        database.logger = logger
        let pool = PostgresPool(database)
        let applied = try pool.withConnection { try Migrator.migrate(KairosSchema.migrations, on: $0) }
        logger.info("database ready", metadata: ["migrations_applied": "\(applied.count)"])

        // Until the HTTP server lands, serving means holding the database and waiting for a signal.
        logger.info("kairos started; waiting for SIGTERM or SIGINT", metadata: ["version": "\(KairosVersion.current)"])
        let signal = ShutdownSignal.wait()
        logger.info("shutting down", metadata: ["signal": "\(signal)"])
        pool.close()
    }
}

/// Blocks until SIGTERM or SIGINT arrives, through Dispatch signal sources.
enum ShutdownSignal {
    static func wait() -> Int32 {
        let received = DispatchSemaphore(value: 0)
        let caught = LockedSignal()
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                caught.set(number)
                received.signal()
            }
            source.resume()
            sources.append(source)
        }
        received.wait()
        sources.forEach { $0.cancel() }
        return caught.value
    }
}

private final class LockedSignal: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var number: Int32 = 0
    func set(_ value: Int32) { lock.withLock { number = value } }
    var value: Int32 { lock.withLock { number } }
}
