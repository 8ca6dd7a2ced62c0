import Foundation
import Jobs
import JSON
import TestSupport
import Testing

/// `GET /jobs` pages: `limit` (1 to 1,000, default 1,000), `offset`, the keyset `after`, in
/// `job_id` order, `jobs_count` counting the whole listing.
@Suite struct JobListingTests {
    /// 1,001 jobs, one more than a page holds, ids `job-0000` to `job-1000`, posted in reverse.
    private static func seed(_ api: APIFixture) throws {
        let definitions = try (0...1000).reversed().map { index in
            try JobDefinition.parse(
                ["job_id": .string(String(format: "job-%04d", index)), "handler": "FlowScheduling", "when": "2026-12-01 02:00", "periodically": "1 day",
                 "kwargs": ["flow_name": "heartbeatFlow"]],
                handlers: .standard)
        }
        _ = JobStore(pool: api.pool).registerDefaults(definitions)
    }

    private static func ids(_ reply: APIFixture.Reply) -> [String] {
        reply.json["jobs"]?.arrayValue?.compactMap { $0["job_id"]?.stringValue } ?? []
    }

    @Test func pagesAreInJobIDOrderAndCountTheWholeListing() async throws {
        try await APIFixture.with { api throws in
            try Self.seed(api)
            let first = try api.call("GET", "/api/v1/jobs")
            #expect(first.status == 200)
            #expect(first.json["jobs_count"] == 1001)
            #expect(Self.ids(first).count == 1000)  // the default, and the most, a page holds
            #expect(Self.ids(first) == (0..<1000).map { String(format: "job-%04d", $0) })

            let byOffset = try api.call("GET", "/api/v1/jobs?limit=1000&offset=1000")
            #expect(Self.ids(byOffset) == ["job-1000"])
            #expect(byOffset.json["jobs_count"] == 1001)
            let byKeyset = try api.call("GET", "/api/v1/jobs?after=job-0999")
            #expect(Self.ids(byKeyset) == ["job-1000"])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?after=job-0010&limit=2")) == ["job-0011", "job-0012"])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?after=job-0010&limit=2&offset=1")) == ["job-0012", "job-0013"])
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?limit=1")) == ["job-0000"])
            // Past the end: an empty page, the count still the listing's.
            let beyond = try api.call("GET", "/api/v1/jobs?offset=5000")
            #expect(Self.ids(beyond).isEmpty && beyond.json["jobs_count"] == 1001)
            #expect(Self.ids(try api.call("GET", "/api/v1/jobs?after=zzz")).isEmpty)
            // Walking the keyset visits every job once.
            var seen: [String] = []
            var after = ""
            while true {
                let page = Self.ids(try api.call("GET", "/api/v1/jobs?limit=300" + (after.isEmpty ? "" : "&after=\(after)")))
                guard let last = page.last else { break }
                seen += page
                after = last
            }
            #expect(seen == (0...1000).map { String(format: "job-%04d", $0) })
        }
    }

    @Test func badPagingIsA400NamingTheParameter() async throws {
        try await APIFixture.with { api throws in
            for (query, name) in [
                ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=-1", "limit"), ("limit=ten", "limit"),
                ("offset=-1", "offset"), ("offset=99999999999", "offset"), ("after=", "after"),
                ("after=" + String(repeating: "a", count: 201), "after"),
            ] {
                let reply = try api.call("GET", "/api/v1/jobs?" + query)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.error?.contains("'\(name)'") == true, "\(query): \(reply.error ?? reply.text)")
            }
            // A NUL never reaches the database: the query itself is refused.
            #expect(try api.call("GET", "/api/v1/jobs?after=a%00b").status == 400)
            #expect(try api.call("GET", "/api/v1/jobs?limit=1000&offset=0&after=" + String(repeating: "a", count: 200)).status == 200)
        }
    }
}
