import Chronology
import Foundation
import JSON
import Postgres
import Scheduling
import TestSupport
import Testing

/// One clock: a `kairos serve` whose own clock runs two hours ahead of the database's (libfaketime
/// preloaded into it, from Debian's `faketime`, which the test command installs) still judges
/// every "now" that decides something by the database's clock. Only its log times show the skew.
@Suite struct SkewedClockTests {
    static let skewHours: Int64 = 2

    /// libfaketime for this machine's architecture.
    static var libfaketime: String? {
        let lib = "/usr/lib"
        let triples = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return triples.map { "\(lib)/\($0)/faketime/libfaketime.so.1" }.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func timestamp(_ text: String?) -> Timestamp? {
        text.flatMap { try? LooseDate(parsing: $0).timestamp(now: Timestamp(secondsSinceEpoch: 0)) }
    }

    @Test func aProcessClockTwoHoursAheadDecidesNothing() async throws {
        let preload = try #require(Self.libfaketime, "libfaketime is missing: apt-get install faketime (scripts/test.sh does)")
        try await TestDatabase.withSchema { configuration in
            // Run with libfaketime preloaded, this binary ran `serve` with its defaults whatever
            // arguments it was given (seen here with `--version`), so every setting goes through
            // the environment, which Kairos reads for each of them.
            let environment = [
                "DATABASE_URL": try TestDatabase.connectionString(for: configuration), "KAIROS_PORT": "0",
                "KAIROS_DEFAULT_JOBS_DIR": "/nonexistent/kairos-skew", "KAIROS_LOG_LEVEL": "info",
                "LD_PRELOAD": preload, "FAKETIME": "+\(Self.skewHours)h", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            ]
            try await onThread {
                let kairos = try KairosProcess([], environment: environment)
                defer { _ = kairos.terminate() }
                let ready = try #require(kairos.waitForLine("ready"), "not ready: \(kairos.log)")
                let port = try #require(kairos.waitForPort())
                let database = try PostgresConnection.connect(configuration)
                func databaseNow() throws -> Timestamp {
                    try database.query("SELECT clock_timestamp() AS now")[0].decode(Timestamp.self, column: "now")
                }
                let hour: Int64 = 3_600_000_000
                let minute: Int64 = 60_000_000
                func near(_ value: JSONValue?, _ expected: Timestamp) -> Bool {
                    guard let time = Self.timestamp(value?.stringValue) else { return false }
                    return abs(time - expected) < minute
                }

                // The skew is real: the process logs its own time, two hours ahead.
                let loggedAt = try #require(Self.timestamp(ready["time"] as? String))
                #expect(loggedAt - (try databaseNow()) > Self.skewHours * hour - 5 * minute, "log time \(loggedAt.iso8601)")

                let api = try RawHTTPConnection(port: port)
                func post(_ body: JSONValue) throws -> RawHTTPResponse {
                    let text = body.serialized()
                    try api.send("POST /api/v1/jobs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
                    return try api.readResponse()
                }
                let kwargs: JSONValue = ["flow_name": "f"]

                // A one-shot half an hour ahead by the database is not "in the past".
                let soon = try databaseNow() + 30 * minute
                let oneShot = try post(["job_id": "soon", "handler": "FlowScheduling", "kwargs": kwargs, "when": .string(soon.iso8601)])
                #expect(oneShot.status == 201, "\(oneShot.text)")

                // An interval without `when` starts one period after the database's now.
                let interval = try post(["job_id": "hourly", "handler": "FlowScheduling", "kwargs": kwargs, "periodically": "1 hour"])
                #expect(interval.status == 201, "\(interval.text)")
                let hourly = try JSONValue(parsing: interval.body)["job"]?["next_run_time"]
                #expect(near(hourly, try databaseNow() + hour), "\(hourly?.serialized() ?? "")")

                // Started ten minutes ago: the first slot is the next one after the database's now,
                // and so is a resume's.
                let started = try databaseNow() - 10 * minute
                let aligned = try post([
                    "job_id": "aligned", "handler": "FlowScheduling", "kwargs": kwargs, "periodically": "1 hour",
                    "when": .string(started.iso8601),
                ])
                #expect(near(try JSONValue(parsing: aligned.body)["job"]?["next_run_time"], started + hour), "\(aligned.text)")
                for state in ["paused", "running"] {
                    try api.send("PUT /api/v1/jobs/aligned?state=\(state) HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try api.readResponse().status == 200)
                }
                try api.send("GET /api/v1/jobs/aligned HTTP/1.1\r\nHost: t\r\n\r\n")
                let resumed = try JSONValue(parsing: try api.readResponse().body)["job"]?["next_run_time"]
                #expect(near(resumed, started + hour), "\(resumed?.serialized() ?? "")")

                // Due-ness and lateness: a one-shot three seconds ahead by the database fires then,
                // not two hours early; "soon", half an hour ahead, has not fired.
                let shortly = try databaseNow() + 3_000_000
                #expect(try post(["job_id": "shortly", "handler": "FlowScheduling", "kwargs": kwargs, "when": .string(shortly.iso8601)]).status == 201)
                #expect(eventually(timeout: 60) {
                    (try? database.query("SELECT count(*) AS n FROM runs WHERE job_id = 'shortly'")[0].decode(Int.self, column: "n")) == 1
                })
                let fired = try database.query("SELECT scheduled_for, claimed_at FROM runs WHERE job_id = 'shortly'")[0]
                #expect(try fired.decode(Timestamp.self, column: "scheduled_for") == shortly)
                let lateness = try fired.decode(Timestamp.self, column: "claimed_at") - shortly
                #expect(lateness >= 0 && lateness < 30_000_000, "claimed \(lateness) µs after its time")
                #expect(try database.query("SELECT count(*) AS n FROM runs WHERE job_id = 'soon'")[0].decode(Int.self, column: "n") == 0)

                // A manual run's slot is the database's now.
                try api.send("POST /api/v1/jobs/aligned/run HTTP/1.1\r\nHost: t\r\n\r\n")
                let run = try api.readResponse()
                #expect(run.status == 201)
                #expect(near(try JSONValue(parsing: run.body)["run"]?["scheduled_for"], try databaseNow()), "\(run.text)")
            }
        }
    }
}
