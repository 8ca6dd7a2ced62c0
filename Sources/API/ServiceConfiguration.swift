import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import Jobs
import Logging
import Outbound
import Scheduling

/// Everything `kairos serve` needs to know, resolved from flags and the environment: a flag wins
/// over its environment variable, which wins over the default.
///
/// | setting | flag | environment | default |
/// | --- | --- | --- | --- |
/// | database | `--database-url` | `DATABASE_URL` | libpq's defaults (`PGHOST`, ...) |
/// | host | `--host` | `KAIROS_HOST` | `127.0.0.1` |
/// | port | `--port` | `KAIROS_PORT` | 34000 |
/// | API tokens | `--api-tokens` | `KAIROS_API_TOKENS` (comma-separated) | none |
/// | serve without tokens beyond loopback | `--allow-unauthenticated` | `KAIROS_ALLOW_UNAUTHENTICATED=true` | no |
/// | default jobs | `--default-jobs-dir` | `KAIROS_DEFAULT_JOBS_DIR` | `default_jobs` |
/// | log level | `--log-level` | `KAIROS_LOG_LEVEL` | `info` |
/// | the API spec | `--openapi-file` | `KAIROS_OPENAPI_FILE` | `openapi.yaml` |
/// | tables a `$filter` may read | `--filter-tables` | `KAIROS_FILTER_TABLES` (comma-separated) | any |
/// | schemas beyond `public` a `$filter` may name | `--filter-schemas` | `KAIROS_FILTER_SCHEMAS` (comma-separated) | none |
/// | `$filter` statement timeout | `--filter-timeout` | `KAIROS_FILTER_TIMEOUT` (a duration) | 30 s |
/// | most rows one `$filter` may match | `--filter-max-rows` | `KAIROS_FILTER_MAX_ROWS` | 100,000 |
/// | `$filter` expansions the API runs at once | `--filter-concurrency` | `KAIROS_FILTER_CONCURRENCY` | 4 |
/// | most bytes one expansion or firing may produce | `--filter-max-bytes` | `KAIROS_FILTER_MAX_BYTES` (`32MiB`, `500KiB`, `1000000`) | 32 MiB |
/// | open connections from one client address | `--max-connections-per-client` | `KAIROS_MAX_CONNECTIONS_PER_CLIENT` | 256 |
/// | longest one database statement of an API call may run | `--database-timeout` | `KAIROS_DATABASE_TIMEOUT` (a duration) | 1 s |
/// | longest a claim waits for work, whatever it asks (up to 60 s) | `--claim-wait-limit` | `KAIROS_CLAIM_WAIT_LIMIT` (a duration) | 60 s |
/// | hosts and networks beyond the public internet webhooks may call | `--webhook-allow` | `KAIROS_WEBHOOK_ALLOW` (names and CIDRs, comma-separated) | none |
/// | webhook calls at once | `--webhook-concurrency` | `KAIROS_WEBHOOK_CONCURRENCY` (1 to 256) | 16 |
/// | a webhook lease beyond the call's timeout | `--webhook-lease-margin` | `KAIROS_WEBHOOK_LEASE_MARGIN` (a duration, 1 s to 10 min) | 30 s |
/// | how long final runs, final flows and failure records are kept | `--retain` | `KAIROS_RETAIN` (a duration of at least 1 minute, or `forever`) | 30 days |
public struct ServiceConfiguration: Sendable, Equatable {
    public var databaseURL: String
    public var host: String
    public var port: Int
    public var apiTokens: [String]
    public var defaultJobsDirectory: String
    public var logLevel: Logger.Level
    public var filters: FilterPolicy
    /// Without tokens, listening beyond loopback is refused unless this says so.
    public var allowUnauthenticated: Bool
    /// `openapi.yaml`, served and made into the docs page.
    public var openapiFile: String
    /// What one client may send and hold: the server's defaults but for the per-client cap.
    public var httpLimits: HTTPLimits
    /// The `statement_timeout` of the API's database sessions (`$filter` queries have their
    /// own, ``FilterPolicy/statementTimeout``). An API call waits for the database about this
    /// long at most, so an unreachable database costs a caller a quick 503, not a hang.
    public var databaseTimeout: Duration
    /// A waiting claim (`POST /flows/claim` with `wait`) is answered after at most this long: for
    /// a proxy in front that closes quiet connections sooner than a minute.
    public var claimWaitLimit: Duration
    /// Where webhooks may go, how many calls at once, and their leases.
    public var webhooks = WebhookSettings()
    /// How long final runs, final flows and failure records are kept; nil keeps them forever.
    public var retention: Duration? = RetentionSweeper.Configuration.defaultRetention

    public struct WebhookSettings: Sendable, Equatable {
        public var policy = OutboundPolicy()
        public var concurrency = 16
        /// Added to a call's timeout for its lease: how soon another process takes up a call
        /// whose process stopped, once its timeout has passed.
        public var leaseMargin: Duration = .seconds(30)

        public init() {}
    }

    public init(
        databaseURL: String, host: String, port: Int, apiTokens: [String], defaultJobsDirectory: String,
        logLevel: Logger.Level, filters: FilterPolicy = .standard, allowUnauthenticated: Bool = false,
        openapiFile: String = "openapi.yaml", httpLimits: HTTPLimits = KairosAPI.httpLimits, databaseTimeout: Duration = .seconds(1),
        claimWaitLimit: Duration = .seconds(60)
    ) {
        self.claimWaitLimit = claimWaitLimit
        self.httpLimits = httpLimits
        self.databaseTimeout = databaseTimeout
        self.databaseURL = databaseURL
        self.host = host
        self.port = port
        self.apiTokens = apiTokens
        self.defaultJobsDirectory = defaultJobsDirectory
        self.logLevel = logLevel
        self.filters = filters
        self.allowUnauthenticated = allowUnauthenticated
        self.openapiFile = openapiFile
    }

    /// Values given as plain values, for tests and tools; `kairos serve`'s options are the other
    /// ``ServiceFlags``.
    public struct Flags: ServiceFlags, Sendable {
        public var databaseURL: String?
        public var host: String?
        public var port: Int?
        public var apiTokens: String?
        public var defaultJobsDirectory: String?
        public var logLevel: String?
        public var filterTables: String?
        public var filterSchemas: String?
        public var filterTimeout: String?
        public var filterMaximumRows: String?
        public var filterMaximumBytes: String?
        public var filterConcurrency: String?
        public var allowUnauthenticated = false
        public var openapiFile: String?
        public var maximumConnectionsPerClient: String?
        public var databaseTimeout: String?
        public var claimWaitLimit: String?
        public var webhookAllow: String?
        public var webhookConcurrency: String?
        public var webhookLeaseMargin: String?
        public var retain: String?

        public init(
            databaseURL: String? = nil, host: String? = nil, port: Int? = nil, apiTokens: String? = nil,
            defaultJobsDirectory: String? = nil, logLevel: String? = nil, filterTables: String? = nil,
            filterSchemas: String? = nil, filterTimeout: String? = nil, filterMaximumRows: String? = nil, allowUnauthenticated: Bool = false,
            openapiFile: String? = nil, maximumConnectionsPerClient: String? = nil, filterMaximumBytes: String? = nil,
            filterConcurrency: String? = nil, databaseTimeout: String? = nil, claimWaitLimit: String? = nil
        ) {
            self.claimWaitLimit = claimWaitLimit
            self.databaseTimeout = databaseTimeout
            self.filterConcurrency = filterConcurrency
            self.filterMaximumBytes = filterMaximumBytes
            self.maximumConnectionsPerClient = maximumConnectionsPerClient
            self.databaseURL = databaseURL
            self.host = host
            self.port = port
            self.apiTokens = apiTokens
            self.defaultJobsDirectory = defaultJobsDirectory
            self.logLevel = logLevel
            self.filterTables = filterTables
            self.filterSchemas = filterSchemas
            self.filterTimeout = filterTimeout
            self.filterMaximumRows = filterMaximumRows
            self.allowUnauthenticated = allowUnauthenticated
            self.openapiFile = openapiFile
        }
    }

    public static let defaultPort = 34000

    /// - Throws: ``ConfigurationError`` naming the setting, where it came from and what is accepted.
    public static func resolve(flags: some ServiceFlags, environment: [String: String]) throws(ConfigurationError) -> ServiceConfiguration {
        /// The flag's value, else the variable's when set and not empty, with where it came from.
        func pick(_ flag: String?, flagName: String, _ variable: String) -> (value: String, source: String)? {
            if let flag { return (flag, flagName) }
            if let value = environment[variable], !value.isEmpty { return (value, variable) }
            return nil
        }

        var port = defaultPort
        if let flagPort = flags.port {
            port = flagPort
        } else if let text = environment["KAIROS_PORT"], !text.isEmpty {
            guard let value = Int(text) else {
                throw ConfigurationError("KAIROS_PORT: \"\(text)\" is not a port number; use 0-65535 (0 picks a free port)")
            }
            port = value
        }
        guard (0...65535).contains(port) else {
            throw ConfigurationError("port \(port) is out of range; use 0-65535 (0 picks a free port)")
        }

        var level = Logger.Level.info
        if let (text, source) = pick(flags.logLevel, flagName: "--log-level", "KAIROS_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                let accepted = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError("\(source): \"\(text)\" is not a log level; use one of \(accepted)")
            }
            level = parsed
        }

        func list(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let tokenSetting = pick(flags.apiTokens, flagName: "--api-tokens", "KAIROS_API_TOKENS")
        let tokens = list(tokenSetting?.value)
        // A setting that names no token (",", " ") is a mistake, not a request for an open API.
        if let (text, source) = tokenSetting, tokens.isEmpty {
            throw ConfigurationError("\(source): \"\(text)\" holds no token; give comma-separated tokens, or leave it unset for no authentication")
        }

        var filters = FilterPolicy.standard
        if let (text, _) = pick(flags.filterTables, flagName: "--filter-tables", "KAIROS_FILTER_TABLES") {
            filters.limits.allowedTables = Set(list(text))
        }
        if let (text, _) = pick(flags.filterSchemas, flagName: "--filter-schemas", "KAIROS_FILTER_SCHEMAS") {
            filters.limits.allowedSchemas = Set(list(text))
        }
        if let (text, source) = pick(flags.filterTimeout, flagName: "--filter-timeout", "KAIROS_FILTER_TIMEOUT") {
            filters.statementTimeout = try statementTimeout(text, source: source)
        }
        var databaseTimeout = Duration.seconds(1)
        if let (text, source) = pick(flags.databaseTimeout, flagName: "--database-timeout", "KAIROS_DATABASE_TIMEOUT") {
            databaseTimeout = try statementTimeout(text, source: source)
        }
        var claimWaitLimit = Duration.seconds(60)
        if let (text, source) = pick(flags.claimWaitLimit, flagName: "--claim-wait-limit", "KAIROS_CLAIM_WAIT_LIMIT") {
            guard let period = try? Period(parsing: text), (0...60_000_000).contains(period.microseconds) else {
                throw ConfigurationError("\(source): \"\(text)\" is not a duration from 0s to 60s, such as \"25s\"")
            }
            claimWaitLimit = .microseconds(period.microseconds)
        }
        if let (text, source) = pick(flags.filterMaximumRows, flagName: "--filter-max-rows", "KAIROS_FILTER_MAX_ROWS") {
            guard let rows = Int(text), rows > 0 else {
                throw ConfigurationError("\(source): \"\(text)\" is not a positive number of rows")
            }
            filters.maximumRows = rows
        }
        if let (text, source) = pick(flags.filterMaximumBytes, flagName: "--filter-max-bytes", "KAIROS_FILTER_MAX_BYTES") {
            guard let bytes = byteCount(text), bytes > 0 else {
                throw ConfigurationError("\(source): \"\(text)\" is not a positive size; try \"32MiB\", \"500KiB\" or a number of bytes")
            }
            filters.maximumBytes = bytes
        }
        if let (text, source) = pick(flags.filterConcurrency, flagName: "--filter-concurrency", "KAIROS_FILTER_CONCURRENCY") {
            // The API's pool has 16 connections; the rest must stay free for everything else.
            guard let count = Int(text), (1...12).contains(count) else {
                throw ConfigurationError("\(source): \"\(text)\" is not a number of expansions from 1 to 12 (of the API's 16 connections)")
            }
            filters.maximumConcurrentExpansions = count
        }

        var allowUnauthenticated = flags.allowUnauthenticated
        if !allowUnauthenticated, let text = environment["KAIROS_ALLOW_UNAUTHENTICATED"], !text.isEmpty {
            switch text.lowercased() {
            case "true", "1", "yes": allowUnauthenticated = true
            case "false", "0", "no": allowUnauthenticated = false
            default: throw ConfigurationError("KAIROS_ALLOW_UNAUTHENTICATED: \"\(text)\" is not true or false")
            }
        }
        let host = pick(flags.host, flagName: "--host", "KAIROS_HOST")?.value ?? "127.0.0.1"
        // An open API is a choice to make on purpose, not a default that reaches the network.
        if tokens.isEmpty, !allowUnauthenticated, !isLoopback(host) {
            throw ConfigurationError(
                "no API tokens are configured, so Kairos listens on loopback only, not on \(host): set KAIROS_API_TOKENS (or --api-tokens), "
                    + "or set KAIROS_ALLOW_UNAUTHENTICATED=true (or --allow-unauthenticated) to serve without them")
        }

        var httpLimits = KairosAPI.httpLimits
        if let (text, source) = pick(flags.maximumConnectionsPerClient, flagName: "--max-connections-per-client", "KAIROS_MAX_CONNECTIONS_PER_CLIENT") {
            guard let number = Int(text), number > 0 else {
                throw ConfigurationError("\(source): \"\(text)\" is not a positive number of connections")
            }
            httpLimits.maximumConnectionsPerClient = number
        }

        var webhooks = WebhookSettings()
        if let (text, source) = pick(flags.webhookAllow, flagName: "--webhook-allow", "KAIROS_WEBHOOK_ALLOW") {
            do {
                webhooks.policy = try OutboundPolicy(parsing: text)
            } catch {
                throw ConfigurationError("\(source): \(error)")
            }
        }
        if let (text, source) = pick(flags.webhookConcurrency, flagName: "--webhook-concurrency", "KAIROS_WEBHOOK_CONCURRENCY") {
            guard let count = Int(text), (1...256).contains(count) else {
                throw ConfigurationError("\(source): \"\(text)\" is not a number of calls from 1 to 256")
            }
            webhooks.concurrency = count
        }
        if let (text, source) = pick(flags.webhookLeaseMargin, flagName: "--webhook-lease-margin", "KAIROS_WEBHOOK_LEASE_MARGIN") {
            guard let period = try? Period(parsing: text), (1_000_000...600_000_000).contains(period.microseconds) else {
                throw ConfigurationError("\(source): \"\(text)\" is not a duration from 1s to 10m, such as \"30s\"")
            }
            webhooks.leaseMargin = .microseconds(period.microseconds)
        }
        var retention: Duration? = RetentionSweeper.Configuration.defaultRetention
        if let (text, source) = pick(flags.retain, flagName: "--retain", "KAIROS_RETAIN") {
            if text.lowercased() == "forever" {
                retention = nil
            } else {
                guard let period = try? Period(parsing: text), period.microseconds >= 60_000_000 else {
                    throw ConfigurationError("\(source): \"\(text)\" is not a duration of at least 1 minute, such as \"30 days\", or \"forever\"")
                }
                retention = .microseconds(period.microseconds)
            }
        }

        var configuration = ServiceConfiguration(
            databaseURL: pick(flags.databaseURL, flagName: "--database-url", "DATABASE_URL")?.value ?? "",
            host: host,
            port: port,
            apiTokens: tokens,
            defaultJobsDirectory: pick(flags.defaultJobsDirectory, flagName: "--default-jobs-dir", "KAIROS_DEFAULT_JOBS_DIR")?.value
                ?? "default_jobs",
            logLevel: level, filters: filters, allowUnauthenticated: allowUnauthenticated,
            openapiFile: pick(flags.openapiFile, flagName: "--openapi-file", "KAIROS_OPENAPI_FILE")?.value ?? "openapi.yaml",
            httpLimits: httpLimits, databaseTimeout: databaseTimeout, claimWaitLimit: claimWaitLimit)
        configuration.webhooks = webhooks
        configuration.retention = retention
        return configuration
    }
}

/// A duration for PostgreSQL's `statement_timeout`: positive, and at most its int of milliseconds.
func statementTimeout(_ text: String, source: String) throws(ConfigurationError) -> Duration {
    guard let period = try? Period(parsing: text), period.microseconds > 0 else {
        throw ConfigurationError("\(source): \"\(text)\" is not a positive duration; try \"30s\", \"2 minutes\" or \"1:00\"")
    }
    guard period.microseconds / 1000 <= Int64(Int32.max) else {
        throw ConfigurationError("\(source): \"\(text)\" is longer than PostgreSQL's longest statement timeout, 24 days")
    }
    return .microseconds(period.microseconds)
}

/// `123`, `64KiB`, `32 MiB`, `1GiB` (any case) as bytes; nil for anything else or an overflow.
func byteCount(_ text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
    for (suffix, shift) in [("kib", 10), ("mib", 20), ("gib", 30), ("b", 0), ("", 0)] where trimmed.hasSuffix(suffix) {
        guard let number = Int(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number >= 0 else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : bytes
    }
    return nil
}

/// `localhost`, an IPv4 address in 127.0.0.0/8, or `::1`: reachable from this machine only.
/// Addresses are parsed, so a name such as `127.example.net` is not taken for one.
func isLoopback(_ host: String) -> Bool {
    if host == "localhost" { return true }
    var v4 = in_addr()
    if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
    var v6 = in6_addr()
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    if inet_pton(AF_INET6, bare, &v6) == 1 {
        return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
    }
    return false
}

extension ServiceConfiguration: CustomStringConvertible {
    /// The settings with every token hidden, for logs.
    public var description: String {
        "host=\(host) port=\(port) api_tokens=\(apiTokens.isEmpty ? "none" : "\(apiTokens.count) (hidden)") "
            + "default_jobs_dir=\(defaultJobsDirectory) log_level=\(logLevel)"
    }
}

/// Settings given on the command line; nil where a flag was not given. `kairos serve`'s parsed
/// options conform as they are, so no flag is copied by hand. There are no defaults: a setting
/// the command lacks or misnames fails to compile rather than being silently ignored.
public protocol ServiceFlags {
    var databaseURL: String? { get }
    var host: String? { get }
    var port: Int? { get }
    var apiTokens: String? { get }
    var defaultJobsDirectory: String? { get }
    var logLevel: String? { get }
    var filterTables: String? { get }
    var filterSchemas: String? { get }
    var filterTimeout: String? { get }
    var filterMaximumRows: String? { get }
    var filterMaximumBytes: String? { get }
    var filterConcurrency: String? { get }
    var allowUnauthenticated: Bool { get }
    var openapiFile: String? { get }
    var maximumConnectionsPerClient: String? { get }
    var databaseTimeout: String? { get }
    var claimWaitLimit: String? { get }
    var webhookAllow: String? { get }
    var webhookConcurrency: String? { get }
    var webhookLeaseMargin: String? { get }
    var retain: String? { get }
}

/// A setting that cannot be used; the message names it and says what would be accepted.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
