import API
import Chronology
import Foundation
import HTTPServer
import JSON
import Jobs
import Logging
import Postgres
import TestSupport

/// Kairos's API on 127.0.0.1 with a free port, on a migrated schema of its own, its clock
/// a test's, at ``now`` until the test moves it (the one test double: the clock).
struct APIFixture: Sendable {
    let port: Int
    let pool: PostgresPool
    let clock: TestClock
    static let now = CivilTime(year: 2026, month: 11, day: 24, hour: 12)!.timestamp

    static func with<T: Sendable>(
        handlers: HandlerRegistry = .standard, tokens: [String] = [], metrics: ServiceMetrics = ServiceMetrics(),
        specification: APISpecification? = nil, poolSize: Int = 8, claimWaitLimit: Duration = .seconds(60),
        _ body: @escaping @Sendable (APIFixture) throws -> T
    ) async throws -> T {
        try await TestDatabase.withSchema { configuration in
            try await onThread {
                let pool = PostgresPool(configuration, maximumConnections: poolSize)
                defer { pool.close() }
                try pool.withConnection { _ = try Migrator.migrate(KairosSchema.migrations, on: $0) }
                let clock = TestClock(now)
                var logger = Logger(label: "test.api")
                logger.logLevel = .critical
                let server = HTTPServer(
                    .init(host: "127.0.0.1", port: 0, limits: KairosAPI.httpLimits),
                    router: KairosAPI.router(
                        database: pool, handlers: handlers, metrics: metrics, specification: specification,
                        clock: .test { clock.now }, logger: logger,
                        // Readiness's own bound is the partition test's to check; here, with the
                        // whole suite on two cores, opening its connection can take seconds.
                        healthTimeout: .seconds(10), claimWaitLimit: claimWaitLimit),
                    middleware: KairosAPI.middleware(logger: logger, tokens: tokens, metrics: metrics), logger: logger)
                try server.start()
                defer { server.shutdown(gracePeriod: .seconds(2)) }
                return try body(APIFixture(port: server.port!, pool: pool, clock: clock))
            }
        }
    }

    struct Reply: Sendable {
        let status: Int
        let json: JSONValue
        let headers: [(String, String)]
        let body: [UInt8]
        var error: String? { json["error"]?.stringValue }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Sends one request on a new connection; `body` goes out as JSON unless `contentType` says otherwise.
    func call(
        _ method: String, _ target: String, body: String? = nil, contentType: String? = "application/json",
        headers: [(String, String)] = []
    ) throws -> Reply {
        let connection = try RawHTTPConnection(port: port)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            if let contentType { head += "Content-Type: \(contentType)\r\n" }
            head += "Content-Length: \(body.utf8.count)\r\n"
        }
        try connection.send(head + "\r\n" + (body ?? ""))
        let response = try connection.readResponse()
        let isJSON = response.headers.contains { $0.0.lowercased() == "content-type" && $0.1.contains("json") }
        let json = response.body.isEmpty || !isJSON ? JSONValue.null : try JSONValue(parsing: response.body, maximumDepth: JSONValue.storedMaximumDepth)
        return Reply(status: response.status, json: json, headers: response.headers, body: response.body)
    }

    func call(_ method: String, _ target: String, json: JSONValue) throws -> Reply {
        try call(method, target, body: json.serialized())
    }
}
