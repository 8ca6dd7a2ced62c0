import Chronology
import CCurl
import Glibc
import Locking

/// One outbound HTTP request.
public struct OutboundRequest: Sendable {
    public var url: String
    public var method: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// For the whole exchange; connecting gets at most 10 s of it.
    public var timeout: Duration

    public init(url: String, method: String = "POST", headers: [(name: String, value: String)] = [], body: [UInt8] = [], timeout: Duration) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What came back: any status (a redirect is not followed), the first bytes of the answer.
public struct OutboundAnswer: Sendable, Equatable {
    public var status: Int
    /// The answer's first ``HTTPClient/keptAnswerBytes`` bytes.
    public var head: [UInt8]
    /// True when the answer was longer than ``HTTPClient/answerLimit`` and reading stopped there.
    public var truncated: Bool

    public init(status: Int, head: [UInt8], truncated: Bool) {
        self.status = status
        self.head = head
        self.truncated = truncated
    }
}

/// Why there is no answer.
public struct OutboundFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The address guard (``OutboundPolicy``) refused where the request would go.
        case refused
        case timeout
        /// No connection, TLS that did not verify, a broken exchange.
        case transport
    }

    public let kind: Kind
    public let message: String

    public var description: String { message }
}

/// A blocking HTTP/1.1 client on libcurl, for webhooks: http and https only, the peer's
/// certificate verified against the system's CA store, no redirects followed, no proxy taken from
/// the environment, every address it connects to judged by an ``OutboundPolicy`` first (after
/// DNS, so a name cannot lead it where a literal could not), the answer read up to a bound.
/// Connections are kept for reuse in at most ``maximumIdleHandles`` handles. Thread-safe.
public final class HTTPClient: Sendable {
    public let policy: OutboundPolicy
    public static let keptAnswerBytes = 1024
    /// How much of an answer is read before the rest is dropped.
    public let answerLimit: Int
    public let maximumIdleHandles = 64
    /// `host:port:address` entries that stand in for DNS (curl's CURLOPT_RESOLVE): tests use one
    /// to make a name resolve to a metadata address. Empty in service.
    let resolving: [String]

    private let idle = Locked<[Handle]>([])

    private struct Handle: @unchecked Sendable {
        // @unchecked: a handle is used by one thread at a time; the pool hands it out once.
        let pointer: UnsafeMutableRawPointer
    }

    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    public init(policy: OutboundPolicy, answerLimit: Int = 1 << 20, resolving: [String] = []) {
        precondition(Self.initialized, "libcurl could not be initialised")
        self.policy = policy
        self.answerLimit = answerLimit
        self.resolving = resolving
    }

    deinit {
        for handle in idle.withLock({ $0 }) { curl_easy_cleanup(handle.pointer) }
    }

    /// Sends `request` and waits for its answer, or its failure, at most its timeout.
    public func send(_ request: OutboundRequest) -> Result<OutboundAnswer, OutboundFailure> {
        guard let host = Self.host(of: request.url) else {
            return .failure(OutboundFailure(kind: .transport, message: "\(request.url) is not an http or https URL with a host"))
        }
        if let refusal = policy.refusal(host: host) { return .failure(OutboundFailure(kind: .refused, message: refusal)) }
        let handle = idle.withLock { $0.popLast() } ?? curl_easy_init().map(Handle.init)
        guard let handle else { return .failure(OutboundFailure(kind: .transport, message: "libcurl could not make a handle")) }
        let transfer = Transfer(policy: policy, host: host, limit: answerLimit)
        let result = perform(request, on: handle.pointer, transfer)
        curl_easy_reset(handle.pointer)  // keeps its live connections, forgets this request's options
        let kept = idle.withLock { handles in
            guard handles.count < maximumIdleHandles else { return false }
            handles.append(handle)
            return true
        }
        if !kept { curl_easy_cleanup(handle.pointer) }
        return result
    }

    /// The host of an http or https URL, as libcurl reads it (the same parser that will connect,
    /// so a guard cannot be passed by a URL two parsers read differently); nil otherwise.
    public static func host(of url: String) -> String? {
        guard let parsed = curl_url() else { return nil }
        defer { curl_url_cleanup(parsed) }
        guard curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK else { return nil }
        func part(_ which: CURLUPart) -> String? {
            var text: UnsafeMutablePointer<CChar>?
            guard curl_url_get(parsed, which, &text, 0) == CURLUE_OK, let text else { return nil }
            defer { curl_free(text) }
            return String(cString: text)
        }
        guard let scheme = part(CURLUPART_SCHEME)?.lowercased(), scheme == "http" || scheme == "https",
            let host = part(CURLUPART_HOST), !host.isEmpty
        else { return nil }
        return host
    }

    private func perform(_ request: OutboundRequest, on curl: UnsafeMutableRawPointer, _ transfer: Transfer) -> Result<OutboundAnswer, OutboundFailure> {
        var headers: UnsafeMutablePointer<curl_slist>?
        // No "Expect: 100-continue" (curl sends it for large bodies), no compressed answers.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] { headers = curl_slist_append(headers, line) }
        defer { curl_slist_free_all(headers) }
        var resolve: UnsafeMutablePointer<curl_slist>?
        for entry in resolving { resolve = curl_slist_append(resolve, entry) }
        defer { curl_slist_free_all(resolve) }
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        let timeout = Int(request.timeout.microseconds / 1000)
        let code: CURLcode = errorText.withUnsafeMutableBufferPointer { errorBuffer in
            _ = kairos_curl_set_string(curl, CURLOPT_URL, request.url)
            _ = kairos_curl_set_string(curl, CURLOPT_PROTOCOLS_STR, "http,https")
            _ = kairos_curl_set_long(curl, CURLOPT_FOLLOWLOCATION, 0)
            _ = kairos_curl_set_string(curl, CURLOPT_NOPROXY, "*")
            _ = kairos_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
            _ = kairos_curl_set_long(curl, CURLOPT_SSL_VERIFYPEER, 1)
            _ = kairos_curl_set_long(curl, CURLOPT_SSL_VERIFYHOST, 2)
            _ = kairos_curl_set_long(curl, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
            _ = kairos_curl_set_long(curl, CURLOPT_TIMEOUT_MS, max(1, timeout))
            _ = kairos_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(timeout, 10_000)))
            _ = kairos_curl_set_string(curl, CURLOPT_CUSTOMREQUEST, request.method)
            if request.method == "GET" {
                _ = kairos_curl_set_long(curl, CURLOPT_HTTPGET, 1)
            } else {
                _ = kairos_curl_set_long(curl, CURLOPT_POST, 1)
                _ = kairos_curl_set_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
                request.body.withUnsafeBytes { body in
                    // COPYPOSTFIELDS takes a copy; an empty body still needs a valid pointer.
                    _ = kairos_curl_set_pointer(curl, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                }
            }
            _ = kairos_curl_set_pointer(curl, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
            if resolve != nil { _ = kairos_curl_set_pointer(curl, CURLOPT_RESOLVE, UnsafeMutableRawPointer(resolve)) }
            _ = kairos_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer.baseAddress))
            _ = kairos_curl_set_write(curl, Self.received)
            _ = kairos_curl_set_pointer(curl, CURLOPT_WRITEDATA, context.toOpaque())
            _ = kairos_curl_set_opensocket(curl, Self.openSocket)
            _ = kairos_curl_set_pointer(curl, CURLOPT_OPENSOCKETDATA, context.toOpaque())
            return curl_easy_perform(curl)
        }
        var status = 0
        _ = kairos_curl_get_long(curl, CURLINFO_RESPONSE_CODE, &status)
        let answer = OutboundAnswer(status: status, head: transfer.head, truncated: transfer.truncated)
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && transfer.truncated && status > 0) { return .success(answer) }
        if let refusal = transfer.refusal { return .failure(OutboundFailure(kind: .refused, message: refusal)) }
        let detail = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        if code == CURLE_OPERATION_TIMEDOUT {
            return .failure(OutboundFailure(kind: .timeout, message: "no answer within \(request.timeout) (\(message))"))
        }
        return .failure(OutboundFailure(kind: .transport, message: message))
    }

    /// One request's state, for libcurl's callbacks.
    private final class Transfer {
        let policy: OutboundPolicy
        let host: String
        let limit: Int
        var head: [UInt8] = []
        var received = 0
        var truncated = false
        var refusal: String?

        init(policy: OutboundPolicy, host: String, limit: Int) {
            self.policy = policy
            self.host = host
            self.limit = limit
        }
    }

    /// Keeps the answer's first bytes; stops reading past the limit.
    private static let received: curl_write_callback = { data, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        transfer.received += length
        if transfer.head.count < keptAnswerBytes, let data {
            let take = min(length, keptAnswerBytes - transfer.head.count)
            data.withMemoryRebound(to: UInt8.self, capacity: take) { transfer.head += UnsafeBufferPointer(start: $0, count: take) }
        }
        guard transfer.received <= transfer.limit else {
            transfer.truncated = true
            return 0  // libcurl ends the transfer with CURLE_WRITE_ERROR
        }
        return length
    }

    /// Opens the socket for each address libcurl is about to connect to, unless the policy
    /// refuses that address: then the connection fails before it is attempted.
    private static let openSocket: curl_opensocket_callback = { context, purpose, address in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        guard let address else { return CURL_SOCKET_BAD }
        let offset = MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
        guard let ip = IPAddress(socketAddress: UnsafeRawPointer(address) + offset) else {
            transfer.refusal = "only IPv4 and IPv6 addresses are called"
            return CURL_SOCKET_BAD
        }
        if let refusal = transfer.policy.refusal(connectingTo: ip, host: transfer.host) {
            transfer.refusal = refusal
            return CURL_SOCKET_BAD
        }
        let socket = Glibc.socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
        if socket >= 0 { _ = fcntl(socket, F_SETFD, FD_CLOEXEC) }
        return socket
    }
}
