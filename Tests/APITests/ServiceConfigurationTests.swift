import API
import Jobs
import Outbound
import Testing

@Suite struct ServiceConfigurationTests {
    @Test func defaultsApplyWhenNothingIsSet() throws {
        let configuration = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: [:])
        #expect(configuration == ServiceConfiguration(
            databaseURL: "", host: "127.0.0.1", port: 34000, apiTokens: [], defaultJobsDirectory: "default_jobs", logLevel: .info))
    }

    @Test func environmentOverridesDefaultsAndFlagsOverrideEnvironment() throws {
        let environment = [
            "DATABASE_URL": "postgresql://env/db", "KAIROS_HOST": "0.0.0.0", "KAIROS_PORT": "8080",
            "KAIROS_API_TOKENS": "a, b,,c", "KAIROS_DEFAULT_JOBS_DIR": "/etc/kairos/jobs", "KAIROS_LOG_LEVEL": "DEBUG",
        ]
        let fromEnvironment = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: environment)
        #expect(fromEnvironment == ServiceConfiguration(
            databaseURL: "postgresql://env/db", host: "0.0.0.0", port: 8080, apiTokens: ["a", "b", "c"],
            defaultJobsDirectory: "/etc/kairos/jobs", logLevel: .debug))

        let flags = ServiceConfiguration.Flags(
            databaseURL: "host=flag", host: "::1", port: 0, apiTokens: "t", defaultJobsDirectory: "jobs", logLevel: "error")
        let fromFlags = try ServiceConfiguration.resolve(flags: flags, environment: environment)
        #expect(fromFlags == ServiceConfiguration(
            databaseURL: "host=flag", host: "::1", port: 0, apiTokens: ["t"], defaultJobsDirectory: "jobs", logLevel: .error))
    }

    @Test(arguments: [
        (["KAIROS_PORT": "http"], "KAIROS_PORT: \"http\" is not a port number; use 0-65535 (0 picks a free port)"),
        (["KAIROS_API_TOKENS": ","], "KAIROS_API_TOKENS: \",\" holds no token; give comma-separated tokens, or leave it unset for no authentication"),
        (["KAIROS_API_TOKENS": " , "], "KAIROS_API_TOKENS: \" , \" holds no token; give comma-separated tokens, or leave it unset for no authentication"),
        (["KAIROS_PORT": "65536"], "port 65536 is out of range; use 0-65535 (0 picks a free port)"),
        (["KAIROS_LOG_LEVEL": "loud"], "KAIROS_LOG_LEVEL: \"loud\" is not a log level; use one of trace, debug, info, notice, warning, error, critical"),
        (["KAIROS_FILTER_TIMEOUT": "soon"], "KAIROS_FILTER_TIMEOUT: \"soon\" is not a positive duration; try \"30s\", \"2 minutes\" or \"1:00\""),
        (["KAIROS_FILTER_TIMEOUT": "0"], "KAIROS_FILTER_TIMEOUT: \"0\" is not a positive duration; try \"30s\", \"2 minutes\" or \"1:00\""),
        (["KAIROS_FILTER_TIMEOUT": "25 days"], "KAIROS_FILTER_TIMEOUT: \"25 days\" is longer than PostgreSQL's longest statement timeout, 24 days"),
        (["KAIROS_DATABASE_TIMEOUT": "never"], "KAIROS_DATABASE_TIMEOUT: \"never\" is not a positive duration; try \"30s\", \"2 minutes\" or \"1:00\""),
        (["KAIROS_DATABASE_TIMEOUT": "0s"], "KAIROS_DATABASE_TIMEOUT: \"0s\" is not a positive duration; try \"30s\", \"2 minutes\" or \"1:00\""),
        (["KAIROS_DATABASE_TIMEOUT": "30 days"], "KAIROS_DATABASE_TIMEOUT: \"30 days\" is longer than PostgreSQL's longest statement timeout, 24 days"),
        (["KAIROS_CLAIM_WAIT_LIMIT": "61s"], "KAIROS_CLAIM_WAIT_LIMIT: \"61s\" is not a duration from 0s to 60s, such as \"25s\""),
        (["KAIROS_CLAIM_WAIT_LIMIT": "soon"], "KAIROS_CLAIM_WAIT_LIMIT: \"soon\" is not a duration from 0s to 60s, such as \"25s\""),
        (["KAIROS_FILTER_MAX_ROWS": "0"], "KAIROS_FILTER_MAX_ROWS: \"0\" is not a positive number of rows"),
        (["KAIROS_FILTER_MAX_ROWS": "lots"], "KAIROS_FILTER_MAX_ROWS: \"lots\" is not a positive number of rows"),
        (["KAIROS_FILTER_MAX_BYTES": "lots"], "KAIROS_FILTER_MAX_BYTES: \"lots\" is not a positive size; try \"32MiB\", \"500KiB\" or a number of bytes"),
        (["KAIROS_FILTER_MAX_BYTES": "0"], "KAIROS_FILTER_MAX_BYTES: \"0\" is not a positive size; try \"32MiB\", \"500KiB\" or a number of bytes"),
        (["KAIROS_FILTER_MAX_BYTES": "99999999999GiB"], "KAIROS_FILTER_MAX_BYTES: \"99999999999GiB\" is not a positive size; try \"32MiB\", \"500KiB\" or a number of bytes"),
        (["KAIROS_FILTER_CONCURRENCY": "0"], "KAIROS_FILTER_CONCURRENCY: \"0\" is not a number of expansions from 1 to 12 (of the API's 16 connections)"),
        (["KAIROS_FILTER_CONCURRENCY": "13"], "KAIROS_FILTER_CONCURRENCY: \"13\" is not a number of expansions from 1 to 12 (of the API's 16 connections)"),
        (["KAIROS_MAX_CONNECTIONS_PER_CLIENT": "0"], "KAIROS_MAX_CONNECTIONS_PER_CLIENT: \"0\" is not a positive number of connections"),
        (["KAIROS_WEBHOOK_ALLOW": "hooks.internal,10.0.0.0/33"], "KAIROS_WEBHOOK_ALLOW: \"10.0.0.0/33\" is neither a host name nor an address block such as 10.0.0.0/8"),
        (["KAIROS_WEBHOOK_CONCURRENCY": "0"], "KAIROS_WEBHOOK_CONCURRENCY: \"0\" is not a number of calls from 1 to 256"),
        (["KAIROS_WEBHOOK_CONCURRENCY": "257"], "KAIROS_WEBHOOK_CONCURRENCY: \"257\" is not a number of calls from 1 to 256"),
        (["KAIROS_WEBHOOK_LEASE_MARGIN": "0.5s"], "KAIROS_WEBHOOK_LEASE_MARGIN: \"0.5s\" is not a duration from 1s to 10m, such as \"30s\""),
        (["KAIROS_WEBHOOK_LEASE_MARGIN": "11m"], "KAIROS_WEBHOOK_LEASE_MARGIN: \"11m\" is not a duration from 1s to 10m, such as \"30s\""),
        (["KAIROS_RETAIN": "59s"], "KAIROS_RETAIN: \"59s\" is not a duration of at least 1 minute, such as \"30 days\", or \"forever\""),
        (["KAIROS_RETAIN": "a while"], "KAIROS_RETAIN: \"a while\" is not a duration of at least 1 minute, such as \"30 days\", or \"forever\""),
    ])
    func badSettingsAreNamed(environment: [String: String], message: String) {
        #expect(throws: ConfigurationError(message)) { try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: environment) }
    }

    @Test func retentionIsThirtyDaysUnlessSetAndForeverKeepsEverything() throws {
        func retention(_ environment: [String: String], flag: String? = nil) throws -> Duration? {
            var flags = ServiceConfiguration.Flags()
            flags.retain = flag
            return try ServiceConfiguration.resolve(flags: flags, environment: environment).retention
        }
        #expect(try retention([:]) == .seconds(30 * 86_400))
        #expect(try retention(["KAIROS_RETAIN": "1m"]) == .seconds(60))  // the shortest
        #expect(try retention(["KAIROS_RETAIN": "7 days"]) == .seconds(7 * 86_400))
        #expect(try retention(["KAIROS_RETAIN": "forever"]) == nil)
        #expect(try retention(["KAIROS_RETAIN": "7 days"], flag: "Forever") == nil)
    }

    @Test func webhookSettingsComeFromTheEnvironmentAndFlags() throws {
        let standard = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: [:]).webhooks
        #expect(standard == ServiceConfiguration.WebhookSettings() && standard.concurrency == 16 && standard.leaseMargin == .seconds(30))
        #expect(standard.policy == OutboundPolicy())
        let environment = ["KAIROS_WEBHOOK_ALLOW": "hooks.internal, 10.1.0.0/16", "KAIROS_WEBHOOK_CONCURRENCY": "256", "KAIROS_WEBHOOK_LEASE_MARGIN": "1s"]
        let set = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: environment).webhooks
        #expect(set.policy == OutboundPolicy(allowedHosts: ["hooks.internal"], allowedRanges: [AddressRange("10.1.0.0/16")!]))
        #expect(set.concurrency == 256 && set.leaseMargin == .seconds(1))
        var flags = ServiceConfiguration.Flags()
        flags.webhookConcurrency = "1"
        flags.webhookAllow = ""
        let flagged = try ServiceConfiguration.resolve(flags: flags, environment: environment).webhooks
        #expect(flagged.concurrency == 1 && flagged.policy == OutboundPolicy())
    }

    @Test func thePerClientConnectionCapComesFromTheEnvironmentAndFlags() throws {
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: [:]).httpLimits.maximumConnectionsPerClient == 256)
        let environment = ["KAIROS_MAX_CONNECTIONS_PER_CLIENT": "1000"]
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: environment).httpLimits.maximumConnectionsPerClient == 1000)
        let flags = ServiceConfiguration.Flags(maximumConnectionsPerClient: "7")
        #expect(try ServiceConfiguration.resolve(flags: flags, environment: environment).httpLimits.maximumConnectionsPerClient == 7)
    }

    @Test func filterSettingsComeFromTheEnvironmentAndFlags() throws {
        // An API call's database statements: 1 s unless set, the flag over the environment.
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: [:]).databaseTimeout == .seconds(1))
        let slowDatabase = ["KAIROS_DATABASE_TIMEOUT": "5s"]
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: slowDatabase).databaseTimeout == .seconds(5))
        #expect(
            try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(databaseTimeout: "0.25"), environment: slowDatabase).databaseTimeout
                == .milliseconds(250))
        // Waiting claims: a minute unless capped lower.
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: [:]).claimWaitLimit == .seconds(60))
        let proxied = ["KAIROS_CLAIM_WAIT_LIMIT": "25s"]
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: proxied).claimWaitLimit == .seconds(25))
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(claimWaitLimit: "0"), environment: proxied).claimWaitLimit == .zero)
        let standard = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: [:]).filters
        #expect(standard == .standard)
        #expect(standard.limits.allowedTables == nil)
        #expect(standard.limits.allowedSchemas.isEmpty)
        #expect(standard.limits.protectedTables == KairosSchema.tableNames)
        let environment = [
            "KAIROS_FILTER_TABLES": "versions, packages,,", "KAIROS_FILTER_TIMEOUT": "2 minutes", "KAIROS_FILTER_MAX_ROWS": "500",
            "KAIROS_FILTER_SCHEMAS": "reports, archive",
        ]
        let fromEnvironment = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: environment).filters
        #expect(fromEnvironment.limits.allowedTables == ["versions", "packages"])
        #expect(fromEnvironment.statementTimeout == .seconds(120))
        #expect(fromEnvironment.maximumRows == 500)
        #expect(fromEnvironment.limits.allowedSchemas == ["reports", "archive"])
        // Setting the tables keeps Kairos's own protected.
        #expect(fromEnvironment.limits.protectedTables == KairosSchema.tableNames)
        let flags = ServiceConfiguration.Flags(filterTables: "analyses", filterSchemas: "x", filterTimeout: "1.5", filterMaximumRows: "1")
        let fromFlags = try ServiceConfiguration.resolve(flags: flags, environment: environment).filters
        #expect(fromFlags.limits.allowedTables == ["analyses"])
        #expect(fromFlags.limits.allowedSchemas == ["x"])
        #expect(standard.maximumBytes == 32 << 20)
        #expect(standard.maximumConcurrentExpansions == 4)
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(filterConcurrency: "12"), environment: [:]).filters.maximumConcurrentExpansions == 12)
        for (text, bytes) in [("1000", 1000), ("64KiB", 65_536), ("32 MiB", 32 << 20), ("1gib", 1 << 30), ("500b", 500)] {
            let policy = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(filterMaximumBytes: text), environment: [:]).filters
            #expect(policy.maximumBytes == bytes, "\(text)")
        }
        #expect(fromFlags.statementTimeout == .milliseconds(1500))
        #expect(fromFlags.maximumRows == 1)
        // The longest statement timeout PostgreSQL takes is just over 24 days.
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(filterTimeout: "24 days"), environment: [:]).filters.statementTimeout == .seconds(24 * 86_400))
    }

    @Test func withoutTokensOnlyLoopbackIsServedUnlessAllowedOnPurpose() throws {
        for host in ["127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "::1", "[::1]", "0:0:0:0:0:0:0:1"] {
            #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(host: host), environment: [:]).host == host)
        }
        for host in ["0.0.0.0", "::", "127.example.net", "128.0.0.1", "10.0.0.1", "::2", "example.com"] {
            #expect(throws: ConfigurationError.self, "\(host)") { try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(host: host), environment: [:]) }
        }
        let refused = #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(host: "0.0.0.0"), environment: [:])
        }
        #expect(refused?.message.hasPrefix("no API tokens are configured, so Kairos listens on loopback only, not on 0.0.0.0") == true)
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(host: "0.0.0.0", apiTokens: "t"), environment: [:]).apiTokens == ["t"])
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(host: "0.0.0.0", allowUnauthenticated: true), environment: [:]).allowUnauthenticated)
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(host: "0.0.0.0"), environment: ["KAIROS_ALLOW_UNAUTHENTICATED": "true"]).allowUnauthenticated)
        #expect(throws: ConfigurationError("KAIROS_ALLOW_UNAUTHENTICATED: \"maybe\" is not true or false")) {
            try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(), environment: ["KAIROS_ALLOW_UNAUTHENTICATED": "maybe"])
        }
    }

    @Test func theDescriptionNeverShowsAToken() throws {
        let configuration = try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(apiTokens: "very-secret,other-secret"), environment: [:])
        #expect(!configuration.description.contains("secret"))
        #expect(configuration.description.contains("api_tokens=2 (hidden)"))
    }

    @Test func portBoundariesAreAccepted() throws {
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(port: 65535), environment: [:]).port == 65535)
        #expect(try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(port: 0), environment: [:]).port == 0)
        #expect(throws: ConfigurationError.self) { try ServiceConfiguration.resolve(flags: ServiceConfiguration.Flags(port: -1), environment: [:]) }
    }
}
