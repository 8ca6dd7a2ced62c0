// swift-tools-version:6.0
// Kairos: a job-scheduling REST service. See README.md for why each dependency is here.
import PackageDescription

let package = Package(
    name: "Kairos",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kairos", targets: ["kairos"]),
        .executable(name: "kairos-bench", targets: ["kairos-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // System libraries, found through pkg-config; apt names the Debian package that provides them.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Outbound HTTP (webhooks) and the HMAC of their signatures: see README, "Webhooks".
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Linux's epoll and eventfd, which the Glibc module leaves out: the HTTP server's event loops.
        .systemLibrary(name: "CEventPoll"),

        // Libraries that know nothing of jobs.
        .target(name: "JSON"),
        .target(name: "Chronology"),
        .target(name: "Locking"),
        // Pure: SQL text whose values can only travel as bound parameters. No libpq.
        .target(name: "SQLBuilding", dependencies: ["JSON", "Chronology"]),
        .target(name: "Postgres", dependencies: [
            "Locking", "CLibPQ", "SQLBuilding", "JSON", "Chronology", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "YAML", dependencies: ["CYAML", "JSON"]),
        .target(name: "HTTPServer", dependencies: [
            "CEventPoll", "Locking", "JSON", "Chronology", .product(name: "Logging", package: "swift-log"),
        ]),

        // Calls out: an HTTP client on libcurl, the address guard, Standard Webhooks signatures.
        .target(name: "Outbound", dependencies: ["Locking", "CCurl", "CLibCrypto", "Chronology"]),

        // Kairos itself.
        .target(name: "Scheduling", dependencies: ["Locking", "Chronology"]),
        // Pure: `$filter` JSON to a typed query to SQL.
        .target(name: "FilterQuery", dependencies: ["SQLBuilding", "JSON"]),
        .target(name: "Jobs", dependencies: [
            "Locking", "Postgres", "SQLBuilding", "FilterQuery", "JSON", "YAML", "Scheduling", "Chronology", "Outbound",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "API", dependencies: [
            "Locking", "Jobs", "FilterQuery", "Scheduling", "YAML", "Postgres", "JSON", "HTTPServer", "Chronology", "Outbound", .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "kairos", dependencies: [
            "API", "Jobs", "Postgres", "HTTPServer", "Chronology", "Outbound",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The benchmarks, apart from the production binary (scripts/bench-*.sh run them).
        .executableTarget(name: "kairos-bench", dependencies: [
            "Jobs", "FilterQuery", "Postgres", "SQLBuilding", "Chronology", "JSON", "Scheduling",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Test support: a fresh schema per test on the PostgreSQL that scripts/postgres.sh starts.
        .target(name: "TestSupport", dependencies: [
            "Postgres", "SQLBuilding", "Chronology", "HTTPServer", .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/TestSupport"),
        .testTarget(name: "SQLBuildingTests", dependencies: ["SQLBuilding"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "ChronologyTests", dependencies: ["Chronology"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "JSON"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "SQLBuilding", "JSON", "Chronology", "TestSupport"]),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling", "Chronology"]),
        .testTarget(name: "FilterQueryTests", dependencies: ["FilterQuery", "SQLBuilding", "Postgres", "JSON", "TestSupport"]),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "FilterQuery", "Scheduling", "Postgres", "SQLBuilding", "TestSupport"]),
        .testTarget(name: "OutboundTests", dependencies: ["Outbound", "HTTPServer", "JSON", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "JSON", "TestSupport"]),
        .testTarget(name: "APITests", dependencies: ["API", "Jobs", "Outbound", "HTTPServer", "FilterQuery", "Scheduling", "Postgres", "SQLBuilding", "Locking", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
