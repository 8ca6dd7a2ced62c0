import Dispatch
import Foundation
import Postgres
import SQLBuilding

/// The PostgreSQL that `make test` starts, and a fresh schema per test case so suites run in
/// parallel and leave nothing behind.
public enum TestDatabase {
    /// `DATABASE_URL`, which the test command exports. Tests that need the database fail with
    /// this message rather than skip when it is missing.
    public static var connectionString: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw TestDatabaseError(
                    "DATABASE_URL is not set: run the tests with `make test`, which starts the test PostgreSQL")
            }
            return url
        }
    }

    /// A minute, not the service's 10 s: the whole suite connects at once, and a host that stalls
    /// for seconds (CI's did) must not fail tests that are correct.
    public static let connectTimeoutSeconds = 60

    /// How many tests may hold a schema at once (see ``withSchema(_:)``).
    public static let concurrentSchemas = 8
    private static let schemaSlots = DispatchSemaphore(value: concurrentSchemas)

    public static var configuration: PostgresConfiguration {
        get throws {
            var configuration = PostgresConfiguration(try connectionString)
            configuration.connectTimeoutSeconds = connectTimeoutSeconds
            return configuration
        }
    }

    /// `configuration` as one libpq connection string, for a child process's `DATABASE_URL`:
    /// whatever the test command's string holds (URI or keywords, a password or none, any
    /// database name, its own query parameters), plus the search path as a session option.
    public static func connectionString(for configuration: PostgresConfiguration) throws -> String {
        var parameters = try configuration.connectionParameters()
        if let searchPath = configuration.searchPath {
            let option = "-csearch_path=" + searchPath.map(\.description).joined(separator: ",")
            if let index = parameters.firstIndex(where: { $0.keyword == "options" }) {
                parameters[index].value += " " + option
            } else {
                parameters.append(("options", option))
            }
        }
        return PostgresConfiguration.keywordString(parameters)
    }

    /// The test database's connection parameters with `changes` made (nil removes a keyword).
    public static func connectionString(changing changes: [String: String?]) throws -> String {
        var parameters = try configuration.connectionParameters().filter { changes[$0.keyword] == nil }
        for (keyword, value) in changes.sorted(by: { $0.key < $1.key }) {
            if let value { parameters.append((keyword, value)) }
        }
        return PostgresConfiguration.keywordString(parameters)
    }

    /// Creates schema `t_<random>`, runs `body` with a configuration whose `search_path` is that
    /// schema, then drops it, also when `body` throws.
    ///
    /// At most ``concurrentSchemas`` bodies run at once; the others wait their turn first. On two
    /// cores, the whole suite at once (some forty schemas migrated and worked on together, with
    /// their threads and service processes) starved tests for over ten seconds, long enough
    /// for connections to time out: the cap keeps every test's own waits meaningful.
    public static func withSchema<T>(_ body: (PostgresConfiguration) async throws -> T) async throws -> T {
        // A nested use cannot deadlock the suite: past the wait it goes ahead anyway.
        let admitted = try await onThread { schemaSlots.wait(timeout: .now() + 300) == .success }
        defer { if admitted { schemaSlots.signal() } }
        let admin = try configuration
        let schema = try SQLIdentifier(validating: "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))
        try await onThread { try PostgresConnection.connect(admin).execute("CREATE SCHEMA \(schema)") }
        var scoped = admin
        scoped.searchPath = [schema]
        do {
            let result = try await body(scoped)
            try await drop(schema, admin)
            return result
        } catch {
            try? await drop(schema, admin)
            throw error
        }
    }

    private static func drop(_ schema: SQLIdentifier, _ admin: PostgresConfiguration) async throws {
        try await onThread { try PostgresConnection.connect(admin).execute("DROP SCHEMA \(schema) CASCADE") }
    }
}

/// Runs blocking work on a thread of its own, keeping Swift concurrency's few threads free.
@discardableResult
public func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

public struct TestDatabaseError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs `body` on its own thread with a new connection to the test database (public schema).
@discardableResult
public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
    let configuration = try TestDatabase.configuration
    return try await onThread { try body(PostgresConnection.connect(configuration)) }
}

/// Runs `body` on its own thread with a connection whose search_path is a fresh schema, dropped afterwards.
@discardableResult
public func withSchemaConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
    try await TestDatabase.withSchema { configuration in
        try await onThread { try body(PostgresConnection.connect(configuration)) }
    }
}
