import Foundation
import HTTPServer
import JSON

/// The spec as YAML and as JSON, and the docs page made from it. Without a spec (the file was
/// not found at start) each answers 503 saying so.
struct SpecRoutes {
    let specification: APISpecification?

    func add(to router: inout Router) {
        let base = KairosAPI.basePath
        let json = specification.map { Array($0.document.serialized().utf8) }
        // The page around its nonce marks, joined with a fresh nonce for each response.
        let pageParts = specification.map { DocsPage(spec: $0.document).html.components(separatedBy: DocsPage.nonceMark).map { Array($0.utf8) } }
        router.add(.get, base + "/openapi.yaml", query: []) { _ in
            try Self.serve(specification?.yaml, type: "application/yaml; charset=utf-8")
        }
        router.add(.get, base + "/openapi.json", query: []) { _ in
            try Self.serve(json, type: "application/json")
        }
        router.add(.get, base + "/ui/", query: []) { _ in
            guard let pageParts else { return try Self.serve(nil, type: "") }
            let nonce = Self.newNonce()
            var response = try Self.serve(Array(pageParts.joined(separator: Array(nonce.utf8))), type: "text/html; charset=utf-8")
            // Only the page's own script and style run; requests go to Kairos alone; no framing.
            response.headers.set(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'nonce-\(nonce)'; connect-src 'self'; img-src 'self' data:; "
                    + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
            response.headers.set("X-Frame-Options", "DENY")
            response.headers.set("Referrer-Policy", "no-referrer")
            return response
        }
        // People type the address without its slash; the page's relative links need it.
        router.add(.get, base + "/ui", query: []) { _ in
            HTTPResponse(status: .movedPermanently, headers: ["Location": base + "/ui/"], body: [])
        }
    }

    private static func serve(_ body: [UInt8]?, type: String) throws -> HTTPResponse {
        guard let body else {
            throw HTTPError(.serviceUnavailable, "the API spec was not loaded at start: openapi.yaml was not found or not valid (see the log)")
        }
        return HTTPResponse(status: .ok, headers: ["Content-Type": type, "X-Content-Type-Options": "nosniff"], body: body)
    }

    /// 128 random bits, base64: a CSP nonce no page content can guess.
    private static func newNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }
}
