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
            try withDirectory(["nightly.yaml": Self.nightly]) { directory in
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.created])
                let created = try #require(try db.store.job("nightly"))
                #expect(created.origin == .defaultJobs)
                #expect(created.kwargs["flow_name"] == "bayesianFlow")
                #expect(created.nextRunTime?.iso8601 == "2026-12-01T02:00:00Z")
                // Pausing it by hand survives a reboot with the same file.
                _ = try db.setState(of: "nightly", to: .paused, at: t(0))
                db.clock.now = t(100)
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.unchanged])
                #expect(try db.store.job("nightly")?.state == .paused)
            }
            try withDirectory(["nightly.yaml": Self.nightly.replacingOccurrences(of: "1 hour", with: "2 hours")]) { directory in
                db.clock.now = t(200)
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.updated])
                let job = try #require(try db.store.job("nightly"))
                #expect(job.misfireGraceTime == .seconds(7200))
                #expect(job.state == .paused)  // the schedule was not reset
            }
            try withDirectory(["nightly.yaml": Self.nightly.replacingOccurrences(of: "1 day", with: "12 hours")]) { directory in
                db.clock.now = t(300)
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.rescheduled])
                let job = try #require(try db.store.job("nightly"))
                #expect(job.state == .running)
                #expect(job.trigger.period == .seconds(43_200))
            }
        }
    }

    /// The work-policy keys sit beside the others in a file, and changing one updates the job in
    /// place, its schedule untouched.
    @Test func theWorkPolicyKeysLoadAndAChangeOfOneIsAnUpdate() async throws {
        try await JobsFixture.with { db in
            let loader = DefaultJobLoader(store: db.store)
            let keyed = Self.nightly + "\npriority: high\nmax_attempts: 3\nretry_delay: 30s\noverlap: skip\n"
            try withDirectory(["nightly.yaml": keyed]) { directory in
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.created])
                let job = try #require(try db.store.job("nightly"))
                #expect(job.policy == WorkPolicy(priority: .high, maxAttempts: 3, retryDelay: .seconds(30), overlap: .skip))
                #expect(job.kwargs.keys.sorted() == ["flow_arguments", "flow_name"])
            }
            try withDirectory(["nightly.yaml": keyed.replacingOccurrences(of: "overlap: skip", with: "overlap: buffer_one")]) { directory throws in
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.updated])
                #expect(try db.store.job("nightly")?.policy.overlap == .bufferOne)
            }
        }
    }

    @Test func cronAndScheduleControlsLoadAndAChangeOfOneReschedules() async throws {
        try await JobsFixture.with { db in
            let loader = DefaultJobLoader(store: db.store)
            let file = """
                job_id: prague
                handler: FlowScheduling
                flow_name: reportFlow
                cron: 30 2 * * MON-FRI
                timezone: Europe/Prague
                start_date: 2026-01-01T00:00:00Z
                end_date: 2027-01-01T00:00:00Z
                max_runs: 100
                jitter: 5 minutes
                """
            try withDirectory(["prague.yaml": file]) { directory throws in
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.created])
                let job = try #require(try db.store.job("prague"))
                #expect(job.trigger.cron?.zone.name == "Europe/Prague")
                #expect(job.controls.maxRuns == 100 && job.controls.jitter == .seconds(300))
                #expect(job.controls.endDate?.iso8601 == "2027-01-01T00:00:00Z")
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.unchanged])
            }
            try withDirectory(["prague.yaml": file.replacingOccurrences(of: "max_runs: 100", with: "max_runs: 5")]) { directory throws in
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.rescheduled])
                #expect(try db.store.job("prague")?.controls.maxRuns == 5)
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
                let outcomes = DefaultJobLoader(store: db.store).load(directory: directory, logger: Self.logger)
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

    /// Every error points at the line of the key or element at fault, found from libyaml's marks
    /// (not by searching the text for the key's name, which the first file would fool).
    @Test(arguments: [
        ("job_id: a\nhandler: FlowScheduling\nflow_arguments:\n  - flow_name: not-this-one\nflow_name: 42\n",
         "5: 'kwargs' for FlowScheduling: 'flow_name' must be a non-empty string, not 42"),
        ("job_id: b\nhandler: FlowScheduling\nkwargs:\n  flow_name: f\n  flow_arguments:\n    - 1\n    - $filter: {table: versions, where: {\"id ==\": 1}}\n",
         #"7: 'kwargs' for FlowScheduling: 'flow_arguments'[1].$filter.where["id =="]: "==" is not an operator; use =, !=, <>, <, <=, >, >=, like, not like, ilike, not ilike, in, not in, is, is not"#),
        ("job_id: c\nhandler: FlowScheduling\nflow_name: f\ncolour: blue\n",
         "4: 'kwargs' for FlowScheduling: unknown key \"colour\"; accepted: \"flow_name\", \"flow_arguments\""),
        ("job_id: d\nhandler: SelectiveFlowScheduling\nflow_name: f\ntask_names: []\n",
         "4: 'kwargs' for SelectiveFlowScheduling: 'task_names' must be a non-empty list of task names, not []"),
        ("# a one-shot long past: refused when it is registered, still at its line\njob_id: e\nhandler: FlowScheduling\nflow_name: f\nwhen: 2001-01-01\n",
         "5: 'when': 2001-01-01T00:00:00Z is in the past (now is 2026-03-01T00:00:00Z); a one-shot job needs a future time"),
        ("job_id: f\nhandler: FlowScheduling\n", "1: 'kwargs' for FlowScheduling: 'flow_name' is required"),
        ("handler: FlowScheduling\nflow_name: f\njob_id: yes\n",
         "3: 'job_id' must be a string, not a boolean (YAML reads unquoted yes, no, on, off and numbers as such); quote it, as in job_id: \"yes\""),
        ("job_id: 2026\nhandler: FlowScheduling\nflow_name: f\n",
         "1: 'job_id' must be a string, not a number (YAML reads unquoted yes, no, on, off and numbers as such); quote it, as in job_id: \"2026\""),
    ])
    func anErrorNamesTheLineOfTheKeyAtFault(text: String, expected: String) async throws {
        try await JobsFixture.with { db in
            try withDirectory(["job.yaml": text]) { directory in
                let outcomes = DefaultJobLoader(store: db.store).load(directory: directory, logger: Self.logger)
                let error = outcomes.first?.error ?? "no error"
                #expect(error == "\(directory)/job.yaml:\(expected)", "\(error)")
            }
        }
    }

    @Test func jobFilesEndInYamlOrYmlInAnyCaseAndHiddenOnesAreSkipped() throws {
        let job = { (id: String) in "job_id: \(id)\nhandler: FlowScheduling\nflow_name: f\n" }
        let files = [
            "a.yaml": job("a"), "B.YAML": job("b"), "c.yml": job("c"), "D.Yml": job("d"),
            ".hidden.yaml": job("h"), "e.yaml~": job("e"), "f.yaml.bak": job("f"), "notes.txt": "x",
        ]
        try withDirectory(files) { directory in
            let names = DefaultJobLoader.jobFiles(in: directory).map { URL(fileURLWithPath: $0).lastPathComponent }
            #expect(names == ["B.YAML", "D.Yml", "a.yaml", "c.yml"])
        }
    }

    /// A `when` without a year resolves to the next such date once; a later boot, after that
    /// date, still finds the same job unchanged rather than scheduling it again.
    @Test func aYearlessOneShotIsNotRescheduledByALaterBoot() async throws {
        try await JobsFixture.with { db in
            try withDirectory(["once.yaml": "job_id: once\nhandler: FlowScheduling\nflow_name: f\nwhen: Feb 20, 14:56\n"]) { directory in
                let loader = DefaultJobLoader(store: db.store)
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.created])
                let created = try db.store.job("once")
                #expect(created?.nextRunTime?.iso8601 == "2027-02-20T14:56:00Z")
                let fired = try db.fireDue(at: CivilTime(year: 2027, month: 2, day: 20, hour: 15)!.timestamp)
                #expect(fired.succeeded == 1)
                db.clock.now = CivilTime(year: 2027, month: 6, day: 1)!.timestamp
                #expect(loader.load(directory: directory, logger: Self.logger).map(\.registration) == [.unchanged])
                let after = try db.store.job("once")
                #expect(after?.state == .finished)
            }
        }
    }

    @Test func aMissingDirectoryMeansNoDefaultJobs() async throws {
        try await JobsFixture.with { db in
            #expect(DefaultJobLoader(store: db.store).load(directory: "/nonexistent/kairos", logger: Self.logger).isEmpty)
        }
    }

    @Test func theShippedDefaultJobsAllLoad() async throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../default_jobs").standardized.path
        try await JobsFixture.with { db in
            db.clock.now = Timestamp(Date())
            let outcomes = DefaultJobLoader(store: db.store).load(directory: directory, logger: Self.logger)
            #expect(outcomes.count >= 3)
            #expect(outcomes.allSatisfy { $0.error == nil && $0.registration == .created }, "\(outcomes.compactMap(\.error))")
        }
    }
}
