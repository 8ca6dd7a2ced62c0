import HTTPServer

/// `GET /ui/dashboard` and its script and style: the operator's page. It is static: everything
/// it shows it fetches from the public API with the operator's token, so it needs no token to
/// load and shows nothing without one.
struct DashboardRoutes {
    /// Scripts and styles from Kairos's own path only (none inline), requests to Kairos alone,
    /// no forms, no framing.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func add(to router: inout Router) {
        let ui = KairosAPI.basePath + "/ui/"
        Self.serve(DashboardPage.html, type: "text/html; charset=utf-8", at: ui + "dashboard", on: &router)
        Self.serve(DashboardPage.script, type: "text/javascript; charset=utf-8", at: ui + "dashboard.js", on: &router)
        Self.serve(DashboardPage.style, type: "text/css; charset=utf-8", at: ui + "dashboard.css", on: &router)
    }

    private static func serve(_ text: String, type: String, at path: String, on router: inout Router) {
        let body = Array(text.utf8)
        router.add(.get, path, query: []) { _ in
            HTTPResponse(
                status: .ok,
                headers: [
                    "Content-Type": type, "X-Content-Type-Options": "nosniff", "Content-Security-Policy": contentSecurityPolicy,
                    "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
                    // A new Kairos may bring a new script: the browser asks again each time.
                    "Cache-Control": "no-cache",
                ],
                body: body)
        }
    }
}
