import API
import HTTPServer
import JSON
import Testing

/// Token auth over real sockets: which routes need a token, how it may be sent, what a refusal says.
@Suite struct AuthenticationTests {
    static let tokens = ["s3cret-token", "second-token-of-another-length"]

    @Test func withoutATokenProtectedRoutesAre401AndOpenOnesAnswer() async throws {
        try await APIFixture.with(tokens: Self.tokens) { api throws in
            for (method, path) in [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"), ("GET", "/api/v1/flows"),
                                   ("PUT", "/api/v1/service/state?state=paused"), ("GET", "/api/v1/no-such-route"),
                                   ("POST", "/api/v1/debug-show-select-query")] {
                let reply = try api.call(method, path, body: "{}")
                #expect(reply.status == 401, "\(method) \(path)")
                #expect(reply.error == "this route needs an API token: send it as 'auth-token: <token>' or 'Authorization: Bearer <token>'")
                #expect(reply.header("WWW-Authenticate") == "Bearer realm=\"kairos\"")
            }
            #expect(try api.call("GET", "/api/v1/liveness").status == 200)
            // Open: answered, not refused (200, or 503 if the database is slow on a loaded host).
            #expect(try api.call("GET", "/api/v1/readiness").status != 401)
            // The service state was not changed by the refused PUT.
            let state = try api.call("GET", "/api/v1/service/state", headers: [("auth-token", "s3cret-token")])
            #expect(state.json["state"] == "running")
        }
    }

    @Test(arguments: [
        [("auth-token", "s3cret-token")], [("Authorization", "Bearer s3cret-token")], [("authorization", "bearer second-token-of-another-length")],
        [("AUTH-TOKEN", "second-token-of-another-length")],
    ])
    func eitherHeaderCarriesAnyConfiguredToken(headers: [(String, String)]) async throws {
        try await APIFixture.with(tokens: Self.tokens) { api throws in
            #expect(try api.call("GET", "/api/v1/jobs", headers: headers).status == 200)
        }
    }

    @Test(arguments: [
        [("auth-token", "s3cret-toke")], [("auth-token", "s3cret-token-")], [("auth-token", "S3CRET-TOKEN")],
        [("Authorization", "Basic s3cret-token")], [("Authorization", "Bearer")], [("Authorization", "s3cret-token")],
        [("auth-token", "")],
        // Two tokens, even both good, are one too many.
        [("auth-token", "s3cret-token"), ("auth-token", "s3cret-token")],
        [("auth-token", "s3cret-token"), ("Authorization", "Bearer s3cret-token")],
        [("Authorization", "Bearer s3cret-token"), ("Authorization", "Bearer second-token-of-another-length")],
    ])
    func aWrongOrMalformedTokenIs401(headers: [(String, String)]) async throws {
        try await APIFixture.with(tokens: Self.tokens) { api throws in
            let reply = try api.call("GET", "/api/v1/jobs", headers: headers)
            #expect(reply.status == 401)
            // The refusal never repeats what was sent.
            #expect(!reply.text.contains("s3cret"))
        }
    }

    @Test func withNoTokensConfiguredEveryRouteIsOpen() async throws {
        try await APIFixture.with { api throws in
            #expect(try api.call("GET", "/api/v1/jobs").status == 200)
        }
    }

    @Test(arguments: [
        (["api", "v1", "liveness"], true), (["api", "v1", "readiness"], true), (["api", "v1", "openapi.yaml"], true),
        (["api", "v1", "openapi.json"], true), (["api", "v1", "ui"], true), (["api", "v1", "ui", ""], true),
        (["api", "v1", "ui", "app.js"], true), (["api", "v1", "uix"], false), (["api", "v1", "jobs"], false),
        (["metrics"], false), (["api", "v1", "liveness", "x"], false), (["api", "v1", "ui/../jobs"], false),
        (["api", "v1/liveness"], false),
    ])
    func openPathsAreExactlyTheProbesTheSpecAndTheDocs(segments: [String], open: Bool) {
        #expect(TokenAuthentication.isOpen(segments: segments) == open)
    }

    @Test func anEncodedSlashDoesNotOpenAProtectedRoute() async throws {
        try await APIFixture.with(tokens: Self.tokens) { api throws in
            for target in ["/api/v1%2Fliveness", "/api/v1/ui%2F..%2Fjobs", "/api%2Fv1%2Fjobs"] {
                #expect(try api.call("GET", target).status == 401, "\(target)")
            }
        }
    }
}
