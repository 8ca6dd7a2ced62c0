import Chronology
import Foundation
import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// `POST /flows/claim` with `wait`: parked until flows it can take are posted or given back, or
/// one is due by itself, or the wait ends; holding no connection and no thread meanwhile.
@Suite struct LongPollTests {
    static func claimBody(_ worker: String, wait: String, names: [String]? = nil, limit: Int = 1) -> String {
        var body: JSONObject = ["worker": .string(worker), "wait": .string(wait), "limit": .int(Int64(limit))]
        if let names { body["flow_names"] = .array(names.map(JSONValue.string)) }
        return JSONValue.object(body).serialized()
    }

    /// Sends a claim on a connection of its own; read its answer with `readResponse()`.
    static func startClaim(_ api: APIFixture, _ body: String, source: String? = nil) throws -> RawHTTPConnection {
        let client = try RawHTTPConnection(port: api.port, source: source, timeout: 60)
        try client.send("POST /api/v1/flows/claim HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return client
    }

    /// A sample of the `/metrics` text, by its series name and labels as written.
    static func metric(_ api: APIFixture, _ series: String) throws -> Double? {
        let text = try api.call("GET", "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    static func waiting(_ api: APIFixture) -> Int { Int((try? metric(api, "kairos_flow_claims_waiting")) ?? -1) }

    static func flows(_ response: RawHTTPResponse) throws -> [JSONValue] {
        try JSONValue(parsing: response.body)["flows"]?.arrayValue ?? []
    }

    /// A job posting `count` flows named `name`, fired now through the API (which notifies).
    static func fire(_ api: APIFixture, job: String, name: String = "work", count: Int = 1, keys: JSONObject = [:]) throws {
        var body: JSONObject = [
            "job_id": .string(job), "handler": "FlowScheduling", "when": .string((APIFixture.now + 3_600_000_000).iso8601),
            "kwargs": ["flow_name": .string(name), "flow_arguments": .array((0..<count).map { ["n": .int(Int64($0))] })],
        ]
        for (key, value) in keys { body[key] = value }
        #expect(try api.call("POST", "/api/v1/jobs", json: .object(body)).status == 201)
        #expect(try api.call("POST", "/api/v1/jobs/\(job)/run").status == 201)
    }

    @Test func aWaitingClaimTakesTheFlowAFiringPosts() async throws {
        try await APIFixture.with { api in
            let stopwatch = Stopwatch()
            let client = try Self.startClaim(api, Self.claimBody("w", wait: "30s"))
            #expect(eventually(timeout: 20) { Self.waiting(api) == 1 })
            try Self.fire(api, job: "nightly")
            let flows = try Self.flows(try client.readResponse())
            #expect(flows.count == 1 && flows.first?["job_id"] == "nightly" && flows.first?["lease_token"] != nil)
            // Woken by the post, far before its 30 s (the bound is loose for a loaded host).
            #expect(stopwatch.elapsed < 20, "answered after \(stopwatch.elapsed) s")
            #expect(Self.waiting(api) == 0)
        }
    }

    @Test func aWaitThatEndsWithNothingAnswersAnEmptyList() async throws {
        try await APIFixture.with { api in
            let stopwatch = Stopwatch()
            let response = try Self.startClaim(api, Self.claimBody("w", wait: "1s")).readResponse()
            let flows = try Self.flows(response)
            #expect(response.status == 200 && flows.isEmpty)
            #expect(stopwatch.elapsed >= 0.9)
        }
    }

    /// A waiter is offered only what it can do: a post of another name leaves it waiting.
    @Test func aWaiterIsWokenOnlyForItsFlowNames() async throws {
        try await APIFixture.with { api in
            let client = try Self.startClaim(api, Self.claimBody("w", wait: "30s", names: ["encode"]))
            #expect(eventually(timeout: 20) { Self.waiting(api) == 1 })
            try Self.fire(api, job: "resizing", name: "resize")
            Thread.sleep(forTimeInterval: 0.5)
            #expect(Self.waiting(api) == 1)
            try Self.fire(api, job: "encoding", name: "encode")
            #expect(try Self.flows(try client.readResponse()).first?["flow_name"] == "encode")
        }
    }

    @Test func aClientThatLeavesStopsWaiting() async throws {
        try await APIFixture.with { api in
            let client = try Self.startClaim(api, Self.claimBody("w", wait: "30s"))
            #expect(eventually(timeout: 20) { Self.waiting(api) == 1 })
            client.closeNow()
            #expect(eventually(timeout: 20) { Self.waiting(api) == 0 })
        }
    }

    /// A flow failed with a retry wakes a waiter, which then waits for the retry's delay and claims it.
    @Test func aRetryDueWhileWaitingIsClaimedWhenItIsDue() async throws {
        try await APIFixture.with { api in
            try Self.fire(api, job: "flaky", keys: ["max_attempts": 2, "retry_delay": "1s"])
            let claimed = try #require(try api.call("POST", "/api/v1/flows/claim", json: ["worker": "first"]).json["flows"]?.arrayValue?.first)
            let id = try #require(claimed["id"]?.intValue)
            let client = try Self.startClaim(api, Self.claimBody("second", wait: "30s"))
            #expect(eventually(timeout: 20) { Self.waiting(api) == 1 })
            let failed = try api.call("POST", "/api/v1/flows/\(id)/fail", json: ["lease_token": claimed["lease_token"]!, "error": "try again"])
            #expect(failed.json["state"] == "unclaimed", "\(failed.text)")
            // The delay passes by the test's clock (jitter is at most ±10 %).
            api.clock.now = APIFixture.now + 1_200_000
            let retried = try Self.flows(try client.readResponse())
            #expect(retried.first?["id"]?.intValue == id && retried.first?["attempt"] == 2 && retried.first?["worker"] == "second")
        }
    }

    /// Five hundred workers wait at once against a pool of 16 connections and 16 handler
    /// threads: they hold none of either, so readiness and the jobs list answer as usual; then
    /// five hundred flows posted at once go one to each.
    @Test func fiveHundredWaitersHoldNoConnectionAndNoThread() async throws {
        try await APIFixture.with(poolSize: 16) { api in try ManyDescriptors.exclusively {
            // From four loopback addresses, as many hosts would (one address may hold 256).
            let clients = try (0..<500).map { index in
                try Self.startClaim(api, Self.claimBody("w\(index)", wait: "60s"), source: "127.0.0.\(2 + index % 4)")
            }
            #expect(eventually(timeout: 40) { Self.waiting(api) == 500 }, "waiting: \(Self.waiting(api))")
            // Held by none of them: the scrape's own at most, once any re-claim under way (a
            // listener that connected after they parked wakes them all to look again) is done.
            #expect(eventually(timeout: 30) { (try? Self.metric(api, #"kairos_db_pool_connections{state="in_use"}"#)) ?? 99 <= 1 })
            #expect(eventually(timeout: 30) { Self.waiting(api) == 500 }, "waiting: \(Self.waiting(api))")
            for path in ["/api/v1/readiness", "/api/v1/jobs"] {
                for _ in 0..<10 {
                    let stopwatch = Stopwatch()
                    #expect(try api.call("GET", path).status == 200)
                    // Not queued behind 500 claims: a bound a loaded two-core host keeps.
                    #expect(stopwatch.elapsed < 3, "\(path) answered after \(stopwatch.elapsed) s")
                }
            }
            try Self.fire(api, job: "fan-out", count: 500)
            var ids: Set<Int64> = []
            for client in clients {
                let flows = try Self.flows(try client.readResponse())
                #expect(flows.count == 1)
                if let id = flows.first?["id"]?.intValue { ids.insert(id) }
            }
            #expect(ids.count == 500)
            #expect(Self.waiting(api) == 0)
        } }
    }
}

extension LongPollTests {
    /// An operator's cap (for a proxy that closes quiet connections) shortens every wait.
    @Test func theOperatorsCapShortensAWait() async throws {
        try await APIFixture.with(claimWaitLimit: .milliseconds(300)) { api in
            let stopwatch = Stopwatch()
            let response = try Self.startClaim(api, Self.claimBody("w", wait: "60s")).readResponse()
            #expect(response.status == 200)
            #expect(stopwatch.elapsed < 20, "answered after \(stopwatch.elapsed) s")
        }
    }
}
