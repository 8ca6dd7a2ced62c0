import Foundation
import JSON
import Postgres
import TestSupport
import Testing

/// `kairos serve` as operators run it: a real process, a real port, signals.
@Suite struct ServeProcessTests {
    @Test func servesLivenessAndReadinessThenStopsOnSIGTERM() async throws {
        try await TestDatabase.withSchema { configuration in
            let environment = ["DATABASE_URL": try TestDatabase.connectionString(for: configuration)]
            try await onThread {
                let kairos = try KairosProcess(["serve", "--port", "0"], environment: environment)
                let port = try #require(kairos.waitForPort(), "no listening line in: \(kairos.log)")
                let connection = try RawHTTPConnection(port: port)
                let live = try connection.get("/api/v1/liveness")
                #expect(live.status == 200)
                #expect(live.text == "{}")
                // Readiness turns 200 once migrations are applied in this fresh schema. The bound
                // is the one every start-up wait has: with the whole suite starting at once on two
                // cores, this process took 8 s to get as far as listening.
                var lastAnswer = "none"
                #expect(
                    eventually(timeout: 30) {
                        let answer = try? connection.get("/api/v1/readiness")
                        lastAnswer = answer.map { "\($0.status) \($0.text)" } ?? "no answer"
                        return answer?.status == 200
                    }, "readiness last said \(lastAnswer); log: \(kairos.log)")
                #expect(kairos.terminate() == 0)
                #expect(kairos.waitForLine("shutting down") != nil)
                #expect(kairos.waitForLine("stopped") != nil)
                // Every line the service wrote is a JSON object (logs are for collectors).
                let lines = kairos.log.split(separator: "\n")
                #expect(!lines.isEmpty && lines.count == kairos.logLines.count, "\(kairos.log)")
            }
        }
    }

    /// An API call waits for the database at most its statement timeout (KAIROS_DATABASE_TIMEOUT):
    /// a job locked by someone else is a quick 503 that says why, not a call that hangs.
    @Test func aCallTheDatabaseCannotFinishInTimeIsA503WithTheReason() async throws {
        try await TestDatabase.withSchema { configuration in
            let environment = [
                "DATABASE_URL": try TestDatabase.connectionString(for: configuration), "KAIROS_DATABASE_TIMEOUT": "1s",
                "KAIROS_DEFAULT_JOBS_DIR": "/nonexistent/kairos-locked",
            ]
            try await onThread {
                let kairos = try KairosProcess(["serve", "--port", "0"], environment: environment)
                defer { _ = kairos.terminate() }
                #expect(kairos.waitForLine("ready") != nil, "not ready: \(kairos.log)")
                let api = try RawHTTPConnection(port: try #require(kairos.waitForPort()))
                let job = #"{"job_id": "held", "handler": "FlowScheduling", "periodically": "1 hour", "kwargs": {"flow_name": "f"}}"#
                #expect(try api.request("POST", "/api/v1/jobs", body: job).status == 201)
                let holder = try PostgresConnection.connect(configuration)
                try holder.execute("BEGIN")
                try holder.execute("SELECT 1 FROM jobs WHERE job_id = 'held' FOR UPDATE")
                let stopwatch = Stopwatch()
                let refused = try api.request("PUT", "/api/v1/jobs/held?state=paused")
                #expect(refused.status == 503, "\(refused.text)")
                #expect(refused.text.contains("did not finish in time"), "\(refused.text)")
                #expect(stopwatch.elapsed < 5, "answered after \(stopwatch.elapsed) s")
                try holder.execute("ROLLBACK")
                #expect(try api.request("PUT", "/api/v1/jobs/held?state=paused").status == 200)
            }
        }
    }

    @Test func readinessIs503WhileTheDatabaseIsUnreachable() async throws {
        try await onThread {
            let kairos = try KairosProcess(
                ["serve", "--port", "0"], environment: ["DATABASE_URL": "postgresql://kairos@127.0.0.1:1/kairos?connect_timeout=1"])
            let port = try #require(kairos.waitForPort(), "no listening line in: \(kairos.log)")
            let connection = try RawHTTPConnection(port: port)
            #expect(try connection.get("/api/v1/liveness").status == 200)
            let ready = try connection.get("/api/v1/readiness")
            #expect(ready.status == 503)
            let message = try JSONValue(parsing: ready.body)["error"]?.stringValue ?? ""
            // No host, port or user for whoever asks without a token; the log has them.
            #expect(message == "database unavailable; the service's log has the reason", "\(message)")
            #expect(kairos.waitForLine("readiness: the database is unavailable") != nil, "\(kairos.log)")
            #expect(kairos.log.contains("127.0.0.1"))
            // The metrics say the database is down, and leave out what only it could tell.
            let scrape = try connection.get("/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.text.contains("kairos_db_up 0\n"), "\(scrape.text)")
            #expect(!scrape.text.contains("kairos_flows{"))
            #expect(kairos.terminate() == 0)
        }
    }

    @Test func versionAndHelp() async throws {
        try await onThread {
            let version = try KairosProcess(["--version"])
            #expect(version.waitForExit(timeout: 10) == 0)
            #expect(version.log.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
            let help = try KairosProcess(["serve", "--help"])
            #expect(help.waitForExit(timeout: 10) == 0)
            #expect(help.log.contains("--database-url"))
            let bad = try KairosProcess(["serve", "--port", "70000"])
            #expect(bad.waitForExit(timeout: 10) != 0)
            #expect(bad.log.contains("port 70000 is out of range"))
        }
    }
}
