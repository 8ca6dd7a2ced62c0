import Chronology
import Foundation
import JSON
import Jobs
import Logging
import TestSupport
import Testing

@Suite struct DefaultJobLoaderTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.defaults")
        logger.logLevel = .critical
        return logger
    }()

    /// A temporary directory with `files` (name → text), removed afterwards.
    func withDirectory<T>(_ files: [String: String], _ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-defaults-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        return try body(directory)
    }

    static let nightly = """
        job_id: nightly
        handler: FlowScheduling
        periodically: 1 day
        when: 2026-12-01 02:00
        misfire_grace_time: 1 hour
        flow_name: bayesianFlow
        flow_arguments:
          - ecosystem: npm
            name: serve-static
        """

    @Test func newUnchangedUpdatedAndRescheduledJobs() async throws {
        try await JobsFixture.with { db in
            let loader = DefaultJobLoader(store: db.store)
            let now = t(0)
            try withDirectory(["nightly.yaml": Self.nightly]) { directory in
                #expect(loader.load(directory: directory, now: now, logger: Self.logger).map(\.registration) == [.created])
                let created = try #require(try db.store.job("nightly"))
                #expect(created.origin == .defaultJobs)
                #expect(created.kwargs["flow_name"] == "bayesianFlow")
                #expect(created.nextRunTime?.iso8601 == "2026-12-01T02:00:00Z")
                // Pausing it by hand survives a reboot with the same file.
                _ = try db.store.setState(of: "nightly", to: .paused, now: now)
                #expect(loader.load(directory: directory, now: t(100), logger: Self.logger).map(\.registration) == [.unchanged])
                #expect(try db.store.job("nightly")?.state == .paused)
            }
            try withDirectory(["nightly.yaml": Self.nightly.replacingOccurrences(of: "1 hour", with: "2 hours")]) { directory in
                #expect(loader.load(directory: directory, now: t(200), logger: Self.logger).map(\.registration) == [.updated])
                let job = try #require(try db.store.job("nightly"))
                #expect(job.misfireGraceTime == .seconds(7200))
                #expect(job.state == .paused)  // the schedule was not reset
            }
            try withDirectory(["nightly.yaml": Self.nightly.replacingOccurrences(of: "1 day", with: "12 hours")]) { directory in
                #expect(loader.load(directory: directory, now: t(300), logger: Self.logger).map(\.registration) == [.rescheduled])
                let job = try #require(try db.store.job("nightly"))
                #expect(job.state == .running)
                #expect(job.trigger.period == .seconds(43_200))
            }
        }
    }

    @Test func aBrokenFileIsReportedWithFileAndLineAndTheOthersLoad() async throws {
        try await JobsFixture.with { db in
            let files = [
                "a-good.yaml": Self.nightly,
                "b-syntax.yaml": "job_id: x\nhandler: [unclosed\n",
                "c-duration.yaml": "job_id: c\nhandler: FlowScheduling\nflow_name: f\nperiodically: 1 dya\n",
                "d-handler.yaml": "job_id: d\nhandler: NoSuchHandler\n",
                "e-duplicate.yml": Self.nightly,
                "notes.txt": "not a job",
            ]
            try withDirectory(files) { directory in
                let outcomes = DefaultJobLoader(store: db.store).load(directory: directory, now: t(0), logger: Self.logger)
                #expect(outcomes.map { URL(fileURLWithPath: $0.file).lastPathComponent }
                    == ["a-good.yaml", "b-syntax.yaml", "c-duration.yaml", "d-handler.yaml", "e-duplicate.yml"])
                #expect(outcomes[0].registration == .created)
                #expect(outcomes[1].error?.hasPrefix(directory + "/b-syntax.yaml:") == true)
                #expect(outcomes[2].error == directory + "/c-duration.yaml:4: 'periodically': \"1 dya\" is not a duration; try \"1 day\", \"5:00:00\", \"1h30m\" or \"90s\"")
                #expect(outcomes[3].error?.contains("unknown handler \"NoSuchHandler\"") == true)
                #expect(outcomes[4].error?.contains("job_id \"nightly\" is already defined in") == true)
                let loaded = try db.store.jobs(.all).map(\.id)
                #expect(loaded == ["nightly"])
            }
        }
    }

    @Test func aMissingDirectoryMeansNoDefaultJobs() async throws {
        try await JobsFixture.with { db in
            #expect(DefaultJobLoader(store: db.store).load(directory: "/nonexistent/kairos", now: t(0), logger: Self.logger).isEmpty)
        }
    }

    @Test func theShippedDefaultJobsAllLoad() async throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../default_jobs").standardized.path
        try await JobsFixture.with { db in
            let outcomes = DefaultJobLoader(store: db.store).load(directory: directory, now: Timestamp(Date()), logger: Self.logger)
            #expect(outcomes.count >= 3)
            #expect(outcomes.allSatisfy { $0.error == nil && $0.registration == .created }, "\(outcomes.compactMap(\.error))")
        }
    }
}
