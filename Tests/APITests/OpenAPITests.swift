import API
import Foundation
import HTTPServer
import JSON
import Postgres
import TestSupport
import Testing

/// `openapi.yaml` and the routes are one contract: a route the spec lacks, or an operation no
/// route serves, fails here.
@Suite struct OpenAPITests {
    static let specPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../openapi.yaml").standardized.path

    /// `/api/v1/jobs/{job_id}` → `/api/v1/jobs/{}`: the names of path parameters may differ.
    static func shape(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("{") && $0.hasSuffix("}") ? "{}" : String($0) }.joined(separator: "/")
    }

    @Test func everyRouteIsInTheSpecAndEveryOperationIsRouted() throws {
        let spec = try APISpecification(contentsOf: Self.specPath)
        let pool = PostgresPool(PostgresConfiguration("host=/nonexistent"), maximumConnections: 1)
        defer { pool.close() }
        let router = KairosAPI.router(database: pool, specification: spec)
        let routed = Set(router.routes.map { "\($0.method.name) \(Self.shape($0.pattern.template))" })
        let described = Set(spec.operations.map { "\($0.method) \(Self.shape($0.path))" })
        #expect(routed.subtracting(described).sorted() == [], "routes the spec lacks")
        #expect(described.subtracting(routed).sorted() == [], "operations no route serves")
        #expect(routed.count == spec.operations.count)
    }

    /// Every operation of the spec, its path parameters filled in, refuses a query parameter it
    /// does not take, before doing anything else.
    @Test func everyOperationRefusesAnUnknownQueryParameter() async throws {
        let spec = try APISpecification(contentsOf: Self.specPath)
        try await APIFixture.with(specification: spec) { api throws in
            for (method, path) in spec.operations {
                let target = Self.shape(path).replacingOccurrences(of: "{}", with: "x")
                let reply = try api.call(method, target + "?zz_unknown=1", body: method == "GET" || method == "DELETE" ? nil : "{}")
                #expect(reply.status == 400, "\(method) \(target): \(reply.status)")
                #expect(reply.error?.hasPrefix("unknown query parameter 'zz_unknown'") == true, "\(method) \(target): \(reply.text)")
            }
            // Nothing was done: no job was made by the POSTs above.
            #expect(try api.call("GET", "/api/v1/jobs?job_type=all").json["jobs_count"] == 0)
        }
    }

    @Test func theSpecIsServedAsWrittenAndAsJSON() async throws {
        let spec = try APISpecification(contentsOf: Self.specPath)
        try await APIFixture.with(tokens: ["t"], specification: spec) { api throws in
            let yaml = try api.call("GET", "/api/v1/openapi.yaml")
            #expect(yaml.status == 200)
            #expect(yaml.header("Content-Type") == "application/yaml; charset=utf-8")
            #expect(yaml.body == spec.yaml)
            let json = try api.call("GET", "/api/v1/openapi.json")
            #expect(json.status == 200)
            #expect(json.json == spec.document)
            #expect(json.json["openapi"] == "3.1.0")
        }
    }

    @Test func theDocsPageHasAFormPerOperationAndLoadsNothingFromElsewhere() async throws {
        let spec = try APISpecification(contentsOf: Self.specPath)
        try await APIFixture.with(tokens: ["t"], specification: spec) { api throws in
            let page = try api.call("GET", "/api/v1/ui/")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            let html = page.text
            // Only the page's own script and style run, by a nonce new with every response.
            let policy = try #require(page.header("Content-Security-Policy"))
            let nonce = try #require(policy.split(separator: "'").first { $0.hasPrefix("nonce-") }?.dropFirst("nonce-".count))
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "\(policy)")
            #expect(html.contains("<script nonce=\"\(nonce)\">") && html.contains("<style nonce=\"\(nonce)\">"))
            #expect(!html.contains("__KAIROS_CSP_NONCE__"))
            #expect(page.header("X-Content-Type-Options") == "nosniff")
            #expect(page.header("X-Frame-Options") == "DENY")
            let again = try api.call("GET", "/api/v1/ui/")
            #expect(again.header("Content-Security-Policy") != policy)
            let operationIDs = (spec.document["paths"]?.objectValue ?? [:]).values.flatMap { item in
                (item.objectValue ?? [:]).values.compactMap { $0["operationId"]?.stringValue }
            }
            #expect(operationIDs.count == spec.operations.count)
            for id in operationIDs { #expect(html.contains("id=\"op-\(id)\""), "\(id)") }
            #expect(html.components(separatedBy: "<form data-method=").count - 1 == operationIDs.count)
            // Grouped by tag, with fabric8's flow-scheduling example in the body field.
            for tag in ["health", "service", "jobs", "flows", "filters", "operations"] { #expect(html.contains("id=\"tag-\(tag)\"")) }
            #expect(html.contains("&quot;flow_name&quot;: &quot;bayesianFlow&quot;"))
            // Self-contained: no script, style or link from another origin.
            #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("@import"))
            #expect(!html.contains("<script src") && !html.contains("<link"))
        }
    }

    @Test func everythingTheSpecSaysIsEscapedOnThePage() async throws {
        // A quote followed by a combining mark is one Character: escaping must go by scalar.
        let hostile = "<script>alert(1)</script> \"\u{301} onmouseover='x' &amp;"
        // JSON strings are YAML double-quoted scalars, escapes and all.
        let quoted = JSONValue.string(hostile).serialized()
        let quotedID = JSONValue.string("x" + hostile).serialized()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString).yaml")
        let yaml = """
            openapi: 3.1.0
            info: {title: \(quoted), version: "1"}
            tags: [{name: jobs, description: \(quoted)}]
            paths:
              /api/v1/jobs:
                get:
                  tags: [jobs]
                  operationId: \(quotedID)
                  summary: \(quoted)
                  parameters: [{name: \(quoted), in: query, description: \(quoted), schema: {type: string}}]
                  responses: {'200': {description: ok}}
            """
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let spec = try APISpecification(contentsOf: file.path)
        try await APIFixture.with(specification: spec) { api throws in
            let html = try api.call("GET", "/api/v1/ui/").text
            let rawQuoteWithMark = "\"\u{301}"
            let escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;\u{301} onmouseover=&#39;x&#39; &amp;amp;"
            #expect(!html.contains("<script>alert"))
            #expect(!html.contains(rawQuoteWithMark))
            #expect(!html.contains("onmouseover='"))
            #expect(html.contains(escaped))
        }
    }

    @Test func theDocsAddressWithoutItsSlashRedirectsThereWithoutAToken() async throws {
        try await APIFixture.with(tokens: ["t"]) { api throws in
            let reply = try api.call("GET", "/api/v1/ui")
            #expect(reply.status == 301)
            #expect(reply.header("Location") == "/api/v1/ui/")
        }
    }

    @Test func withoutASpecTheSpecRoutesSayWhy() async throws {
        try await APIFixture.with { api throws in
            for path in ["/api/v1/openapi.yaml", "/api/v1/openapi.json", "/api/v1/ui/"] {
                let reply = try api.call("GET", path)
                #expect(reply.status == 503)
                #expect(reply.error?.hasPrefix("the API spec was not loaded at start") == true)
            }
        }
    }
}
