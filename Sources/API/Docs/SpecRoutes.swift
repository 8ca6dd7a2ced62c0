import HTTPServer
import JSON

/// The spec as YAML and as JSON, and the docs page made from it. Without a spec (the file was
/// not found at start) each answers 503 saying so.
struct SpecRoutes {
    let specification: APISpecification?

    func add(to router: inout Router) {
        let base = KairosAPI.basePath
        let json = specification.map { Array($0.document.serialized().utf8) }
        let page = specification.map { Array(DocsPage(spec: $0.document).html.utf8) }
        router.add(.get, base + "/openapi.yaml", query: []) { _ in
            try Self.serve(specification?.yaml, type: "application/yaml; charset=utf-8")
        }
        router.add(.get, base + "/openapi.json", query: []) { _ in
            try Self.serve(json, type: "application/json")
        }
        router.add(.get, base + "/ui/", query: []) { _ in
            try Self.serve(page, type: "text/html; charset=utf-8")
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
        return HTTPResponse(status: .ok, headers: ["Content-Type": type], body: body)
    }
}
