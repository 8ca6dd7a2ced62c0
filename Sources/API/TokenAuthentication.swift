import Foundation
import HTTPServer

/// The API's token check: with tokens configured, every route but the open ones (liveness,
/// readiness, the spec and the docs page) needs `auth-token: <token>` or
/// `Authorization: Bearer <token>`, else 401. Tokens are compared in constant time and never
/// logged or echoed.
public struct TokenAuthentication: Sendable {
    private let tokens: [[UInt8]]

    /// No tokens: every route is open.
    public init(tokens: [String]) {
        self.tokens = tokens.map { Array($0.utf8) }
    }

    /// Paths anyone may read, as decoded segments: what probes, people and tools need before
    /// they have a token.
    static let openPaths: Set<[String]> = [
        ["api", "v1", "liveness"], ["api", "v1", "readiness"], ["api", "v1", "openapi.yaml"], ["api", "v1", "openapi.json"],
    ]

    /// The docs page and anything under it.
    static let openPrefix = ["api", "v1", "ui"]

    /// Judged on the decoded segments the router matches, not on a path string, where an encoded
    /// `%2F` inside a segment would look like a separator.
    public static func isOpen(segments: [String]) -> Bool {
        openPaths.contains(segments) || segments.starts(with: openPrefix)
    }

    public var middleware: Middleware {
        { request, next in
            guard !tokens.isEmpty, !Self.isOpen(segments: request.pathSegments) else { return next(request) }
            // Two tokens are one too many: which one the check took would be a guess.
            guard request.headers.values("auth-token").count + request.headers.values("Authorization").count <= 1 else {
                throw Self.unauthorized("send one API token, in one 'auth-token' or 'Authorization' header, not several")
            }
            guard let presented = Self.presentedToken(request.headers) else {
                throw Self.unauthorized(
                    "this route needs an API token: send it as 'auth-token: <token>' or 'Authorization: Bearer <token>'")
            }
            guard accepts(presented) else { throw Self.unauthorized("the API token is not one this service accepts") }
            return next(request)
        }
    }

    /// Whether `presented` is one of the tokens. Every token is compared over its whole length,
    /// so the time taken says nothing about how much of one matched.
    func accepts(_ presented: String) -> Bool {
        let candidate = Array(presented.utf8)
        var matches = 0
        for token in tokens {
            // Counted, not short-circuited: every token is compared whatever the result so far.
            matches += Self.constantTimeEqual(token, candidate) ? 1 : 0
        }
        return matches > 0
    }

    static func constantTimeEqual(_ expected: [UInt8], _ candidate: [UInt8]) -> Bool {
        var difference: UInt8 = expected.count == candidate.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < candidate.count ? candidate[index] : 0)
        }
        return difference == 0
    }

    /// The token from `auth-token`, else from `Authorization: Bearer`.
    static func presentedToken(_ headers: HTTPHeaders) -> String? {
        if let token = headers["auth-token"], !token.isEmpty { return token }
        guard let authorization = headers["Authorization"] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    private static func unauthorized(_ message: String) -> HTTPError {
        var error = HTTPError(.unauthorized, message)
        error.headers = ["WWW-Authenticate": "Bearer realm=\"kairos\""]
        return error
    }
}
