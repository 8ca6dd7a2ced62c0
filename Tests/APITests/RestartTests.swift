import Chronology
import Foundation
import JSON
import Postgres
import TestSupport
import Testing

/// Two `kairos serve` lifetimes on one database with downtime between them.
@Suite struct RestartTests {
    @Test func slotsDueWhileDownAreRunOrMissedAndNoneTwice() async throws {
        try await TestDatabase.withSchema { configuration in
            let url = try TestDatabase.connectionString(for: configuration)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-restart-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try """
            job_id: every-second
            handler: FlowScheduling
            periodically: 1s
            misfire_grace_time: 1s
            flow_name: heartbeatFlow
            """.write(toFile: directory + "/every-second.yaml", atomically: true, encoding: .utf8)
            let arguments = ["serve", "--port", "0", "--default-jobs-dir", directory]

            // Real time, on purpose: the test is about a stretch of downtime between two processes.
            try await onThread {
                for lifetime in 1...2 {
                    let kairos = try KairosProcess(arguments, environment: ["DATABASE_URL": url])
                    #expect(kairos.waitForLine("ready") != nil, "not ready: \(kairos.log)")
                    Thread.sleep(forTimeInterval: 2.5)
                    #expect(kairos.terminate() == 0, "lifetime \(lifetime)")
                    if lifetime == 1 { Thread.sleep(forTimeInterval: 3) }  // down across three slots
                }
            }
            try await onThread {
                let connection = try PostgresConnection.connect(configuration)
                let start = try connection.query("SELECT start_at FROM jobs WHERE job_id = 'every-second'")[0]
                    .decode(Timestamp.self, column: "start_at")
                let runs = try connection.query("""
                    SELECT scheduled_for, coalesced_slots, outcome FROM runs WHERE job_id = 'every-second' ORDER BY scheduled_for
                    """)
                let slots = try runs.map { try $0.decode(Timestamp.self, column: "scheduled_for") }
                let coalesced = try runs.map { try $0.decode(Int64.self, column: "coalesced_slots") }
                #expect(Set(slots).count == slots.count)
                // Every second from the first slot to the last is a run or was coalesced into one.
                let last = try #require(slots.last)
                #expect(coalesced.reduce(0) { $0 + 1 + $1 } == (last - start) / 1_000_000 + 1)
                // The downtime shows as one firing that stands for the slots it missed.
                #expect(coalesced.contains { $0 >= 2 })
                let outcomes = Set(try runs.map { try $0.decode(String.self, column: "outcome") })
                #expect(outcomes.isSubset(of: ["succeeded", "missed"]))
            }
        }
    }
}
