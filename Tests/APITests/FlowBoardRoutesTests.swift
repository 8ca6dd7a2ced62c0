import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

/// The workers' routes over HTTP: claim, then report on each flow with its lease token.
@Suite struct FlowBoardRoutesTests {
    /// Posts `count` flows named `name`, available since the fixture's start.
    static func post(_ api: APIFixture, count: Int, name: String = "resize") throws -> [Int64] {
        try api.pool.withConnection { connection in
            try connection.query("""
                INSERT INTO flows (flow_name, arguments, job_id, scheduled_for, position, available_at)
                SELECT \(name), json_build_object('n', n), 'job', \(APIFixture.now)::timestamptz + n * interval '1 microsecond', 0,
                       \(APIFixture.now)::timestamptz - interval '1 minute'
                FROM generate_series(1, \(Int32(count))) AS n RETURNING id
                """).map { try $0.decode(Int64.self, column: "id") }
        }
    }

    @Test func aWorkerClaimsCompletesAndItsRepeatIsAnsweredAsBefore() async throws {
        try await APIFixture.with { api in
            let ids = try Self.post(api, count: 3)
            let claim = try api.call("POST", "/api/v1/flows/claim", json: ["worker": "host-1/pid-7", "flow_names": ["resize"], "limit": 2, "lease": "45s"])
            #expect(claim.status == 200, "\(claim.text)")
            let flows = try #require(claim.json["flows"]?.arrayValue)
            #expect(flows.count == 2)
            let first = try #require(flows.first)
            #expect(first["state"] == "claimed" && first["attempt"] == 1 && first["worker"] == "host-1/pid-7")
            #expect(first["arguments"] == ["n": 1])
            let token = try #require(first["lease_token"]?.stringValue)
            let id = try #require(first["id"]?.intValue)
            #expect(id == ids[0])
            // An operator finds what a worker holds.
            let held = try api.call("GET", "/api/v1/flows?worker=host-1/pid-7&state=claimed")
            #expect(held.json["flows_count"] == 2, "\(held.text)")
            #expect(try api.call("GET", "/api/v1/flows?worker=nobody").json["flows_count"] == 0)
            // Others see the holder and the lease, not the token.
            let shown = try api.call("GET", "/api/v1/flows/\(id)")
            #expect(shown.json["worker"] == "host-1/pid-7" && shown.json["lease_token"] == nil, "\(shown.text)")

            let beat = try api.call("POST", "/api/v1/flows/\(id)/heartbeat", json: ["lease_token": .string(token), "progress": 0.5, "details": ["step": "resize"]])
            #expect(beat.status == 200 && beat.json["progress"] == 0.5 && beat.json["lease_token"]?.stringValue == token, "\(beat.text)")
            #expect(beat.json["details"] == ["step": "resize"])
            // No `lease` in the heartbeat: the claim's 45 s again, from now.
            #expect(beat.json["lease_expires_at"] == first["lease_expires_at"], "\(beat.text)")
            let done = try api.call("POST", "/api/v1/flows/\(id)/complete", json: ["lease_token": .string(token), "result": ["rows": 42]])
            #expect(done.status == 200 && done.json["state"] == "completed" && done.json["result"] == ["rows": 42], "\(done.text)")
            // A worker that lost that answer asks again: the same answer.
            let again = try api.call("POST", "/api/v1/flows/\(id)/complete", json: ["lease_token": .string(token), "result": ["rows": 0]])
            #expect(again.status == 200 && again.json["result"] == ["rows": 42], "\(again.text)")
            // Any other call with that token now conflicts with the flow's state.
            let late = try api.call("POST", "/api/v1/flows/\(id)/fail", json: ["lease_token": .string(token), "error": "late"])
            #expect(late.status == 409, "\(late.text)")
        }
    }

    @Test func aStaleOrForgedTokenIs409AndAnUnknownFlow404() async throws {
        try await APIFixture.with { api in
            let id = try #require(try Self.post(api, count: 1).first)
            let forged = try api.call("POST", "/api/v1/flows/\(id)/complete", json: ["lease_token": "forged"])
            #expect(forged.status == 409 && forged.error?.contains("not claimed") == true, "\(forged.text)")
            let claim = try api.call("POST", "/api/v1/flows/claim", json: ["worker": "w"])
            let token = try #require(claim.json["flows"]?[0]?["lease_token"]?.stringValue)
            let stale = try api.call("POST", "/api/v1/flows/\(id)/trash", json: ["lease_token": "someone-elses"])
            #expect(stale.status == 409 && stale.error?.contains("lease was lost") == true, "\(stale.text)")
            for path in ["/api/v1/flows/999999/complete", "/api/v1/flows/abc/complete", "/api/v1/flows/-1/abandon"] {
                #expect(try api.call("POST", path, json: ["lease_token": .string(token)]).status == 404, "\(path)")
            }
            // Abandoned, it is back on the board at once, for the next claim.
            #expect(try api.call("POST", "/api/v1/flows/\(id)/abandon", json: ["lease_token": .string(token)]).json["state"] == "unclaimed")
            #expect(try api.call("POST", "/api/v1/flows/claim", json: ["worker": "w2"]).json["flows"]?[0]?["attempt"] == 1)
        }
    }

    @Test(arguments: [
        (#"{}"#, "'worker' is required"),
        (#"{"worker": ""}"#, "'worker' must be a non-empty string"),
        (#"{"worker": 7}"#, "'worker' must be a non-empty string"),
        (#"{"worker": "w", "limit": 0}"#, "'limit' must be an integer from 1 to 1000"),
        (#"{"worker": "w", "limit": 1001}"#, "'limit' must be an integer from 1 to 1000"),
        (#"{"worker": "w", "lease": "soon"}"#, "'lease' must be a duration"),
        (#"{"worker": "w", "lease": "2 hours"}"#, "'lease' must be from"),
        (#"{"worker": "w", "flow_names": []}"#, "'flow_names' must be a list of 1 to 100"),
        (#"{"worker": "w", "flow_names": ["a", 1]}"#, "'flow_names' must be a list"),
        (#"{"worker": "w", "wiat": "10s"}"#, "'wiat' is not a field here"),
        (#"{"worker": "w", "wait": "61s"}"#, "'wait' must be from"),
        (#"{"worker": "w", "wait": "later"}"#, "'wait' must be a duration"),
        (#"{"worker": "w", "wait": -1}"#, "'wait' must be a duration"),
    ])
    func badClaimsAre400NamingTheField(body: String, message: String) async throws {
        try await APIFixture.with { api in
            let reply = try api.call("POST", "/api/v1/flows/claim", body: body)
            #expect(reply.status == 400, "\(reply.text)")
            #expect(reply.error?.contains(message) == true, "\(reply.text)")
        }
    }

    @Test func badVerbBodiesAre400NamingTheField() async throws {
        try await APIFixture.with { api in
            let id = try #require(try Self.post(api, count: 1).first)
            for (verb, body, message) in [
                ("complete", #"{}"#, "'lease_token' is required"),
                ("complete", #"{"lease_token": "t", "extra": 1}"#, "'extra' is not a field here"),
                ("fail", #"{"lease_token": "t"}"#, "'error' is required"),
                ("fail", #"{"lease_token": "t", "error": "x", "retry": "yes"}"#, "'retry' must be true or false"),
                ("heartbeat", #"{"lease_token": "t", "progress": 1.5}"#, "'progress' must be a number from 0 to 1"),
                ("abandon", #"{"lease_token": "\#(String(repeating: "x", count: 65))"}"#, "'lease_token' must be a non-empty string of at most 64"),
            ] {
                let reply = try api.call("POST", "/api/v1/flows/\(id)/\(verb)", body: body)
                #expect(reply.status == 400 && reply.error?.contains(message) == true, "\(verb) \(body): \(reply.text)")
            }
        }
    }

    @Test func manyCompleteInOneCallEachAnsweredOnItsOwn() async throws {
        try await APIFixture.with { api in
            _ = try Self.post(api, count: 3)
            let claimed = try #require(try api.call("POST", "/api/v1/flows/claim", json: ["worker": "w", "limit": 3]).json["flows"]?.arrayValue)
            let entries: [JSONValue] = claimed.enumerated().map { index, flow in
                ["id": flow["id"]!, "lease_token": index == 1 ? "wrong" : flow["lease_token"]!, "result": .int(Int64(index))]
            } + [["id": 424242, "lease_token": "x"]]
            let reply = try api.call("POST", "/api/v1/flows/complete", json: ["flows": .array(entries)])
            #expect(reply.status == 200, "\(reply.text)")
            let outcomes = reply.json["flows"]?.arrayValue?.compactMap { $0["outcome"]?.stringValue }
            #expect(outcomes == ["completed", "conflict", "completed", "not_found"], "\(reply.text)")
            #expect(try api.call("POST", "/api/v1/flows/complete", json: ["flows": []]).status == 400)
            let missing = try api.call("POST", "/api/v1/flows/complete", json: ["flows": [["lease_token": "t"]]])
            #expect(missing.status == 400 && missing.error?.contains("'flows[0].id' is required") == true, "\(missing.text)")
            let tooMany = JSONValue.array((0..<1001).map { _ in ["id": 1, "lease_token": "t"] })
            #expect(try api.call("POST", "/api/v1/flows/complete", json: ["flows": tooMany]).status == 400)
        }
    }
}
