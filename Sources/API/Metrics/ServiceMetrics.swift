import Dispatch
import Foundation
import HTTPServer
import Jobs
import Locking

/// What `GET /metrics` reports that only this process knows: the requests it answered and the
/// firings its scheduler made. Thread-safe; recording is a few additions under one lock.
public final class ServiceMetrics: Sendable {
    /// Latency buckets in seconds, upper bounds: from a cached read to a slow expansion.
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct RequestKey: Hashable, Comparable {
        var route: String
        var method: String
        var status: Int

        static func < (lhs: RequestKey, rhs: RequestKey) -> Bool {
            (lhs.route, lhs.method, lhs.status) < (rhs.route, rhs.method, rhs.status)
        }
    }

    struct LatencyKey: Hashable, Comparable {
        var route: String
        var method: String

        static func < (lhs: LatencyKey, rhs: LatencyKey) -> Bool { (lhs.route, lhs.method) < (rhs.route, rhs.method) }
    }

    struct Histogram {
        /// Counts per bucket, not cumulative; the last is above every bound.
        var counts = [Int](repeating: 0, count: ServiceMetrics.latencyBuckets.count + 1)
        var sum = 0.0
        var count = 0

        mutating func record(_ seconds: Double) {
            let bucket = ServiceMetrics.latencyBuckets.firstIndex { seconds <= $0 } ?? ServiceMetrics.latencyBuckets.count
            counts[bucket] += 1
            sum += seconds
            count += 1
        }
    }

    struct State {
        var requests: [RequestKey: Int] = [:]
        var latencies: [LatencyKey: Histogram] = [:]
        var fired = 0
        var missed = 0
        var failed = 0
        var skipped = 0
        var flowsPosted = 0
        /// Seconds between the scheduled time and the claim, for the latest due job claimed.
        var schedulerLag: Double?
        var batchFailures = 0
        /// When the scheduler last looked at the database successfully, in Unix seconds.
        var lastSuccessfulBatch: Double?
        var flowsClaimed = 0
        var leasesExpired = 0
        var flowRetries = 0
        var flowsFailed = 0
        /// Rows retention deleted, by kind.
        var retentionDeleted: [String: Int] = [:]
    }

    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

    let state = Locked(State())
    /// When the process started, in seconds since the epoch.
    public let processStartTime: Double

    /// The sink whose dropped lines the metrics report: the service's logger's.
    let logSink: LogSink?

    public init(processStartTime: Date = Date(), logSink: LogSink? = nil) {
        self.processStartTime = processStartTime.timeIntervalSince1970
        self.logSink = logSink
    }

    /// Counts rows retention deleted.
    @Sendable public func recordRetention(kind: String, deleted: Int) {
        state.withLock { $0.retentionDeleted[kind, default: 0] += deleted }
    }

    /// Counts a request by its route template (never its raw path, which would make a series
    /// per job id), method and status, with its latency.
    public func recordRequest(route: String?, method: String, status: Int, seconds: Double) {
        let route = route ?? "unmatched"
        // Any token is a method to the parser: unknown ones share a series, so no client can grow
        // the metrics without bound (this runs before the token check).
        let method = Self.knownMethods.contains(method) ? method : "other"
        state.withLock { state in
            state.requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            state.latencies[LatencyKey(route: route, method: method), default: Histogram()].record(seconds)
        }
    }

    /// Counts one scheduler batch (a look at the database, whether or not it claimed jobs).
    public func recordBatch(_ report: JobFirer.Report, at time: Date = Date()) {
        state.withLock { state in
            state.lastSuccessfulBatch = time.timeIntervalSince1970
            state.fired += report.succeeded
            state.missed += report.missed
            state.failed += report.failed
            state.skipped += report.skipped
            state.flowsPosted += report.flowsPosted
            if let latest = report.lateness.max() { state.schedulerLag = Double(latest) / 1_000_000 }
        }
    }

    /// Counts one claim: the flows it handed out, and the run-out leases it swept back first.
    public func recordClaim(claimed: Int, leasesExpired: Int) {
        state.withLock { state in
            state.flowsClaimed += claimed
            state.leasesExpired += leasesExpired
        }
    }

    /// Counts a failure a worker reported: retried (back on the board), or final.
    public func recordFlowFailure(retried: Bool) {
        state.withLock { state in
            if retried { state.flowRetries += 1 } else { state.flowsFailed += 1 }
        }
    }

    /// Counts a scheduler batch that failed.
    public func recordBatchFailure() {
        state.withLock { $0.batchFailures += 1 }
    }

    /// Middleware that records every request; put it outside the token check so refusals count.
    /// A parked request (a long poll) is recorded once, when answered, with its whole wait.
    public var middleware: Middleware {
        { request, next in
            let response = next(request)
            guard !response.isParked else { return response }
            let elapsed = ContinuousClock.now - request.receivedAt
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            self.recordRequest(route: request.route, method: request.method.name, status: response.status.code, seconds: seconds)
            return response
        }
    }
}
