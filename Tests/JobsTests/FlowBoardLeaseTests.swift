import Chronology
import Dispatch
import Foundation
import JSON
import Jobs
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// The board's claims and verbs over a real database: the lease decides, the rows store it.
@Suite struct FlowBoardLeaseTests {
    /// Posts `count` flows named `name` (priority 2 unless given) for slot `t(slot)`, returns their ids.
    static func post(_ db: JobsFixture, count: Int, name: String = "work", priority: Int = 2, slot: Int64 = 0) throws -> [Int64] {
        try db.pool.withConnection { connection in
            try connection.query("""
                INSERT INTO flows (flow_name, arguments, job_id, scheduled_for, position, priority, available_at)
                SELECT \(name), to_json(n), 'job', \(t(slot))::timestamptz + n * interval '1 microsecond', 0, \(Int32(priority)),
                       \(t(0))::timestamptz
                FROM generate_series(1, \(Int32(count))) AS n RETURNING id
                """).map { try $0.decode(Int64.self, column: "id") }
        }
    }

    /// The flow and lease of a verb that must have been done; fails the test otherwise.
    static func done(_ outcome: FlowBoard.VerbOutcome, _ what: String) throws -> (Flow, FlowLease) {
        guard case .done(let flow, let lease) = outcome else {
            throw TestDatabaseError("\(what) was not done: \(outcome)")
        }
        return (flow, lease)
    }

    static func board(_ db: JobsFixture) -> FlowBoard {
        FlowBoard(pool: db.pool, clock: .test { db.clock.now })
    }

    @Test func aClaimTakesUpToItsLimitEachWithItsOwnTokenAndOnlyWhatTheWorkerCanDo() async throws {
        try await JobsFixture.with { db in
            _ = try Self.post(db, count: 3, name: "resize")
            _ = try Self.post(db, count: 2, name: "encode", slot: 10)
            db.clock.now = t(5)
            let board = Self.board(db)
            let claimed = try board.claim(worker: "w1", flowNames: ["resize"], limit: 2, lease: .seconds(30))
            #expect(claimed.count == 2)
            #expect(claimed.allSatisfy { $0.flow.flowName == "resize" && $0.flow.state == .claimed })
            #expect(Set(claimed.map(\.lease.holder?.token)).count == 2)
            #expect(claimed.allSatisfy { $0.lease.attempt == 1 && $0.lease.holder?.expiresAt == t(35) && $0.lease.holder?.worker == "w1" })
            // Any name: the third resize and both encodes; then the board is empty.
            #expect(try board.claim(worker: "w2", flowNames: nil, limit: 10, lease: .seconds(30)).count == 3)
            #expect(try board.claim(worker: "w3", flowNames: nil, limit: 10, lease: .seconds(30)).isEmpty)
        }
    }

    /// The board's statements are planned once per connection, not for every call: a claim,
    /// a complete and the settling of its run each run on a generic plan, every time.
    @Test func claimsAndVerbsRunOnCachedGenericPlans() async throws {
        try await JobsFixture.with(connections: 1) { db in
            _ = try Self.post(db, count: 8)
            db.clock.now = t(5)
            let board = Self.board(db)
            for _ in 0..<8 {
                let claimed = try #require(try board.claim(worker: "w", flowNames: ["work"], limit: 1, lease: .seconds(30)).first)
                let token = try #require(claimed.lease.holder?.token)
                _ = try Self.done(try board.act(on: claimed.flow.id) { _ in .complete(token, result: .null) }, "complete")
            }
            // One connection: the pool's, which ran every call above.
            let plans = try db.pool.withConnection { connection in
                try connection.query("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements").map { row in
                    (statement: try row.decode(String.self, column: "statement"), generic: try row.decode(Int.self, column: "generic_plans"),
                     custom: try row.decode(Int.self, column: "custom_plans"))
                }
            }
            // The candidates, the sweep of run-out leases, the verb's lock, the lease write, the run's settling.
            for marker in ["state = 'unclaimed' AND available_at", "state = 'claimed' AND lease_expires_at", "FROM flows WHERE id = ",
                           "UPDATE flows SET state", "UPDATE runs SET finished_at"] {
                let matching = plans.filter { $0.statement.contains(marker) }
                #expect(!matching.isEmpty, "no prepared statement with \(marker)")
                #expect(matching.allSatisfy { $0.custom == 0 && $0.generic > 0 }, "\(marker): \(matching)")
            }
        }
    }

    @Test func higherPriorityIsClaimedFirstThenTheOldest() async throws {
        try await JobsFixture.with { db in
            let low = try Self.post(db, count: 1, name: "low", priority: 4)
            let normal = try Self.post(db, count: 2, name: "normal", priority: 2, slot: 1)
            let urgent = try Self.post(db, count: 1, name: "urgent", priority: 0, slot: 2)
            db.clock.now = t(5)
            let order = try (0..<4).flatMap { _ in try Self.board(db).claim(worker: "w", flowNames: nil, limit: 1, lease: .seconds(30)).map(\.flow.id) }
            #expect(order == urgent + normal + low)
        }
    }

    @Test func concurrentClaimsNeverShareAFlow() async throws {
        try await JobsFixture.with { db in
            let posted = try Self.post(db, count: 200)
            db.clock.now = t(5)
            let board = Self.board(db)
            let taken = LockedBox<[Int64]>([])
            let errors = LockedBox<[String]>([])
            let group = DispatchGroup()
            for worker in 0..<8 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    do {
                        while case let batch = try board.claim(worker: "w\(worker)", flowNames: nil, limit: 7, lease: .seconds(30)), !batch.isEmpty {
                            taken.update { $0 += batch.map(\.flow.id) }
                        }
                    } catch {
                        errors.update { $0.append("\(error)") }
                    }
                }
            }
            #expect(group.wait(timeout: .now() + 60) == .success)
            #expect(errors.get().isEmpty, "\(errors.get())")
            #expect(taken.get().count == 200)
            #expect(Set(taken.get()) == Set(posted))
        }
    }

    @Test func verbsCarryTheTokenAStaleOneIsRefusedAndARepeatAnswersAsBefore() async throws {
        try await JobsFixture.with { db in
            let id = try #require(try Self.post(db, count: 1).first)
            db.clock.now = t(5)
            let board = Self.board(db)
            let claimed = try #require(try board.claim(worker: "w", flowNames: nil, limit: 1, lease: .seconds(30)).first)
            let token = try #require(claimed.lease.holder?.token)
            #expect(try board.act(on: id) { _ in .complete(LeaseToken("forged"), result: 1) } == .refused(.staleToken))
            #expect(try board.act(on: 999_999) { _ in .complete(token, result: 1) } == .unknownFlow)
            db.clock.now = t(10)
            let (_, beat) = try Self.done(try board.act(on: id, { now in .heartbeat(token, now: now, lease: .seconds(60), progress: 0.5) }), "the heartbeat")
            #expect(beat.holder?.expiresAt == t(70) && beat.progress == 0.5)
            let (flow, done) = try Self.done(try board.act(on: id, { _ in .complete(token, result: ["rows": 42]) }), "the completion")
            #expect(flow.state == .completed && done.result == ["rows": 42] && done.holder == nil)
            // The worker lost the answer and asks again: the same answer, and nothing changes.
            #expect(try board.act(on: id) { _ in .complete(token, result: ["rows": 0]) } == .done(flow, done))
            #expect(try board.act(on: id) { now in .fail(token, error: "late", retry: false, now: now, jitter: 0) } == .refused(.staleToken))
        }
    }

    @Test func aLeaseThatRanOutIsTakenOverAndTheOldHolderIsFencedOff() async throws {
        try await JobsFixture.with { db in
            let id = try #require(try Self.post(db, count: 1).first)
            db.clock.now = t(5)
            let board = Self.board(db)
            let first = try #require(try board.claim(worker: "dies", flowNames: nil, limit: 1, lease: .seconds(30)).first)
            // Not before the lease runs out...
            db.clock.now = t(34)
            #expect(try board.claim(worker: "next", flowNames: nil, limit: 1, lease: .seconds(30)).isEmpty)
            // ...and at once after.
            db.clock.now = t(35)
            let second = try #require(try board.claim(worker: "next", flowNames: nil, limit: 1, lease: .seconds(30)).first)
            #expect(second.flow.id == id && second.lease.attempt == 2 && second.lease.holder?.worker == "next")
            let old = try #require(first.lease.holder?.token)
            #expect(try board.act(on: id) { _ in .complete(old, result: "stale") } == .refused(.staleToken))
            let current = try #require(second.lease.holder?.token)
            let (flow, _) = try Self.done(try board.act(on: id, { _ in .complete(current, result: "fresh") }), "the new holder's completion")
            #expect(flow.state == .completed)
        }
    }

    @Test func theDatabasesOwnClockJudgesClaimsAndExpiry() async throws {
        // The production statements: "now" from clock_timestamp(), read once per statement.
        try await JobsFixture.with { db in
            let id = try #require(try Self.post(db, count: 1).first)
            let board = FlowBoard(pool: db.pool)
            let claimed = try #require(try board.claim(worker: "w", flowNames: nil, limit: 1, lease: .seconds(1)).first)
            #expect(claimed.flow.id == id)
            #expect(try board.claim(worker: "w2", flowNames: nil, limit: 1, lease: .seconds(1)).isEmpty)
            Thread.sleep(forTimeInterval: 1.2)
            let taken = try #require(try board.claim(worker: "w2", flowNames: nil, limit: 1, lease: .seconds(30)).first)
            #expect(taken.lease.attempt == 2 && taken.lease.holder?.worker == "w2")
        }
    }

    @Test func aBatchWithAFlowTwiceCompletesItOnceAndRepeatsTheAnswer() async throws {
        try await JobsFixture.with { db in
            _ = try Self.post(db, count: 2)
            db.clock.now = t(5)
            let board = Self.board(db)
            let claimed = try board.claim(worker: "w", flowNames: nil, limit: 2, lease: .seconds(30))
            let (first, second) = (claimed[0], claimed[1])
            let outcomes = try board.completeMany([
                (second.flow.id, second.lease.holder!.token, "b"), (first.flow.id, first.lease.holder!.token, "a"),
                (second.flow.id, second.lease.holder!.token, "b again"),
            ])
            let (_, secondDone) = try Self.done(outcomes[0], "the first completion")
            let (_, again) = try Self.done(outcomes[2], "its repeat")
            #expect(secondDone.result == "b" && again.result == "b")
            #expect(try db.count("SELECT count(*) FROM flows WHERE state = 'completed'") == 2)
        }
    }

    /// Two batches over the same flows, given in opposite orders, at once: both lock in id order,
    /// so neither deadlocks; each flow is completed once and the other batch gets repeats.
    @Test func batchesInOppositeOrdersAtOnceNeitherDeadlockNorCompleteTwice() async throws {
        try await JobsFixture.with { db in
            _ = try Self.post(db, count: 200)
            db.clock.now = t(5)
            let board = Self.board(db)
            let claimed = try board.claim(worker: "w", flowNames: nil, limit: 200, lease: .seconds(300))
            let forward = claimed.map { ($0.flow.id, $0.lease.holder!.token, JSONValue.string("forward")) }
            let failures = Arrivals<String>()
            let done = Arrivals<Int>()
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                do {
                    let outcomes = try board.completeMany(index == 0 ? forward : forward.reversed())
                    done.append(outcomes.filter { if case .done = $0 { true } else { false } }.count)
                } catch {
                    failures.append("\(error)")
                }
            }
            #expect(failures.all.isEmpty)
            #expect(done.all == [200, 200])
            #expect(try db.count("SELECT count(*) FROM flows WHERE state = 'completed' AND last_verb = 'complete'") == 200)
        }
    }

    @Test func aRepeatedCallIsAnsweredAsItWasEvenAfterAnotherWorkerClaimedTheFlow() async throws {
        try await JobsFixture.with { db in
            let id = try #require(try Self.post(db, count: 1).first)
            try db.pool.withConnection { _ = try $0.execute("UPDATE flows SET max_attempts = 2, retry_delay_us = 0 WHERE id = \(id)") }
            db.clock.now = t(5)
            let board = Self.board(db)
            let token = try #require(try board.claim(worker: "a", flowNames: nil, limit: 1, lease: .seconds(30)).first?.lease.holder?.token)
            _ = try board.act(on: id) { now in .fail(token, error: "x", retry: true, now: now, jitter: 0) }
            _ = try #require(try board.claim(worker: "b", flowNames: nil, limit: 1, lease: .seconds(30)).first)
            let (flow, lease) = try Self.done(try board.act(on: id, { now in .fail(token, error: "x", retry: true, now: now, jitter: 0) }), "the repeat")
            #expect(flow.state == .unclaimed && lease.holder == nil, "\(flow.state)")
        }
    }

    @Test func aRetryWaitsOnTheBoardThenComesBackWithTheNextAttempt() async throws {
        try await JobsFixture.with { db in
            let id = try #require(try Self.post(db, count: 1).first)
            try db.pool.withConnection { _ = try $0.execute("UPDATE flows SET max_attempts = 3, retry_delay_us = 20000000 WHERE id = \(id)") }
            db.clock.now = t(5)
            let board = Self.board(db)
            let claimed = try #require(try board.claim(worker: "w", flowNames: nil, limit: 1, lease: .seconds(30)).first)
            let token = try #require(claimed.lease.holder?.token)
            let (flow, lease) = try Self.done(try board.act(on: id, { now in .fail(token, error: "busy", retry: true, now: now, jitter: 0) }), "the failure")
            #expect(flow.state == .unclaimed && lease.availableAt == t(25) && lease.error == "busy")
            db.clock.now = t(24)
            #expect(try board.claim(worker: "w", flowNames: nil, limit: 1, lease: .seconds(30)).isEmpty)
            db.clock.now = t(25)
            #expect(try board.claim(worker: "w", flowNames: nil, limit: 1, lease: .seconds(30)).first?.lease.attempt == 2)
        }
    }
}
