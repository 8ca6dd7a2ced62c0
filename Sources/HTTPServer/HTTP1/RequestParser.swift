/// HTTP/1.1 request parsing: bytes in, one decision out. No sockets, no clocks, so it can be
/// fed every split of a corpus and fuzzed.
///
/// ```swift
/// var parser = RequestParser(limits: HTTPLimits())
/// parser.append(bytes)
/// switch parser.next() {
/// case .needMoreBytes: ...                  // read more
/// case .sendContinue: ...                   // write "100 Continue", then read the body
/// case .request(let request): ...           // answer it, then call next() again (pipelining)
/// case .reject(let status, let reason): ... // answer {"error": reason} and close
/// }
/// ```
///
/// It follows RFC 9112 strictly where leniency enables request smuggling (a body with both
/// `Content-Length` and `Transfer-Encoding`, differing lengths, bare CR, folded headers) and
/// leniently where it is harmless (bare LF line ends, blank lines before a request).
public struct RequestParser: Sendable {
    public enum Step: Sendable {
        case needMoreBytes
        /// The head asked `Expect: 100-continue` and its body is acceptable: tell the client to send it.
        case sendContinue
        case request(HTTPRequest)
        /// The request cannot be served; answer with this status and reason, then close.
        case reject(HTTPStatus, reason: String)
    }

    private enum State {
        case head
        case fixedBody(HTTPRequest, remaining: Int)
        case chunked(HTTPRequest, ChunkState)
        case failed(HTTPStatus, String)
    }

    private enum ChunkState {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(bytes: Int)
    }

    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    /// The first byte not yet consumed.
    private var start = 0
    /// Head search progress: bytes from `start` already searched for the end of the head.
    private var scanned = 0
    /// Where the first line of the head under way ends, once seen.
    private var firstLineEnd: Int?
    private var state = State.head
    private var continuePending = false

    /// Where a body larger than ``HTTPLimits/maximumBodyBytes`` (on a route that allows one)
    /// takes its bytes from; nil lets such bodies in without a shared bound.
    private let largeBodies: LargeBodyBudget?
    /// Bytes this parser holds of `largeBodies`, until ``releaseLargeBody()``.
    public private(set) var largeBodyBytesHeld = 0

    public init(limits: HTTPLimits, largeBodies: LargeBodyBudget? = nil) {
        self.limits = limits
        self.largeBodies = largeBodies
    }

    /// Gives back what the last large body took from the budget: its request has been answered,
    /// or the connection is closing.
    public mutating func releaseLargeBody() {
        guard largeBodyBytesHeld > 0 else { return }
        largeBodies?.release(largeBodyBytesHeld)
        largeBodyBytesHeld = 0
    }

    /// Adds bytes read from the client.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            if firstLineEnd != nil { firstLineEnd! -= start }
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// True between requests: nothing of a next request has arrived.
    public var isIdle: Bool {
        if case .head = state { return start == buffer.count }
        return false
    }

    /// True while a body is being received (the head is complete).
    public var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunked: return true
        case .head, .failed: return false
        }
    }

    /// Bytes received and not yet consumed.
    public var bufferedByteCount: Int { buffer.count - start }

    /// The next decision; call it until it says ``Step/needMoreBytes``.
    public mutating func next() -> Step {
        let step: Step
        switch state {
        case .failed(let status, let reason): return .reject(status, reason: reason)
        case .head: step = parseHead()
        case .fixedBody(var request, let remaining):
            let take = min(remaining, buffer.count - start)
            request.body.append(contentsOf: buffer[start..<start + take])
            start += take
            if take == remaining {
                state = .head
                continuePending = false
                return .request(request)
            }
            state = .fixedBody(request, remaining: remaining - take)
            step = .needMoreBytes
        case .chunked(let request, let chunk):
            step = parseChunked(request, chunk)
        }
        if case .reject(let status, let reason) = step { state = .failed(status, reason) }
        if case .needMoreBytes = step, continuePending {
            continuePending = false
            return .sendContinue
        }
        return step
    }

    // MARK: The head

    private mutating func parseHead() -> Step {
        // RFC 9112 §2.2: blank lines before a request line are ignored.
        if firstLineEnd == nil {
            while start < buffer.count, buffer[start] == 0x0D || buffer[start] == 0x0A { start += 1 }
            scanned = 0
        }
        guard let headEnd = findHeadEnd() else {
            let pending = buffer.count - start
            // Judged the same whether the line's end has arrived or not, so the answer never
            // depends on how reads cut the bytes (the fuzzer checks this).
            if requestLineLength(end: firstLineEnd ?? buffer.count) > limits.maximumRequestLineBytes {
                return .reject(.uriTooLong, reason: "the request line is longer than \(limits.maximumRequestLineBytes) bytes")
            }
            if pending > limits.maximumHeaderBytes {
                return .reject(.requestHeaderFieldsTooLarge, reason: "the request head is larger than \(limits.maximumHeaderBytes) bytes")
            }
            return .needMoreBytes
        }
        let head = buffer[start..<headEnd.contentEnd]
        let requestLineBytes = requestLineLength(end: firstLineEnd ?? headEnd.contentEnd)
        start = headEnd.next
        firstLineEnd = nil
        scanned = 0
        if requestLineBytes > limits.maximumRequestLineBytes {
            return .reject(.uriTooLong, reason: "the request line is longer than \(limits.maximumRequestLineBytes) bytes")
        }
        if head.count > limits.maximumHeaderBytes {
            return .reject(.requestHeaderFieldsTooLarge, reason: "the request head is larger than \(limits.maximumHeaderBytes) bytes")
        }
        switch HeadParser(limits: limits).parse(head) {
        case .failure(let rejection):
            return .reject(rejection.status, reason: rejection.reason)
        case .success(let parsed):
            return beginBody(parsed)
        }
    }

    /// The request line's length from `start` to `end` (its LF, or the end of what has arrived),
    /// not counting a CR just before `end`: that may be the line's CR LF.
    private func requestLineLength(end: Int) -> Int {
        end - start - (end > start && buffer[end - 1] == 0x0D ? 1 : 0)
    }

    /// Finds the blank line ending the head, resuming where the last search stopped.
    private mutating func findHeadEnd() -> (contentEnd: Int, next: Int)? {
        var index = start + max(0, scanned - 3)
        while index < buffer.count {
            guard buffer[index] == 0x0A else {
                index += 1
                continue
            }
            if firstLineEnd == nil { firstLineEnd = index }
            // LF LF, or LF CR LF, ends the head.
            if index + 1 < buffer.count, buffer[index + 1] == 0x0A { return (index + 1, index + 2) }
            if index + 2 < buffer.count, buffer[index + 1] == 0x0D, buffer[index + 2] == 0x0A { return (index + 1, index + 3) }
            if index + 2 >= buffer.count { break }
            index += 1
        }
        scanned = max(0, buffer.count - start)
        return nil
    }

    private mutating func beginBody(_ parsed: HeadParser.Head) -> Step {
        var request = parsed.request
        request.body = []
        switch parsed.body {
        case .none:
            return .request(request)
        case .length(let length):
            let limit = limits.maximumBodyBytes(method: request.method, path: request.path)
            guard length <= limit else {
                return .reject(.contentTooLarge, reason: "the body of \(length) bytes is larger than the limit of \(limit) bytes")
            }
            if length > limits.maximumBodyBytes, let largeBodies {
                releaseLargeBody()
                guard largeBodies.reserve(length) else {
                    return .reject(.serviceUnavailable, reason: "too many large bodies are being received at once; send it again shortly")
                }
                largeBodyBytesHeld = length
            }
            request.body.reserveCapacity(length)
            state = .fixedBody(request, remaining: length)
        case .chunked:
            state = .chunked(request, .size)
        }
        continuePending = parsed.expectsContinue
        return next()
    }

    // MARK: Chunked bodies (RFC 9112 §7.1)

    private mutating func parseChunked(_ request: HTTPRequest, _ chunk: ChunkState) -> Step {
        var request = request
        var chunk = chunk
        defer {
            if case .chunked = state { state = .chunked(request, chunk) }
        }
        while true {
            switch chunk {
            case .size:
                guard let line = takeLine(maximum: 1024) else {
                    if buffer.count - start > 1024 { return .reject(.badRequest, reason: "a chunk-size line is longer than 1024 bytes") }
                    return .needMoreBytes
                }
                guard let size = Self.chunkSize(line) else { return .reject(.badRequest, reason: "invalid chunk size") }
                if size == 0 {
                    chunk = .trailers(bytes: 0)
                    continue
                }
                guard size <= limits.maximumBodyBytes - request.body.count else {
                    return .reject(.contentTooLarge, reason: "the chunked body is larger than the limit of \(limits.maximumBodyBytes) bytes")
                }
                chunk = .data(remaining: size)
            case .data(let remaining):
                let take = min(remaining, buffer.count - start)
                request.body.append(contentsOf: buffer[start..<start + take])
                start += take
                guard take == remaining else {
                    chunk = .data(remaining: remaining - take)
                    return .needMoreBytes
                }
                chunk = .dataEnd
            case .dataEnd:
                guard let line = takeLine(maximum: 2) else {
                    if buffer.count - start >= 2 { return .reject(.badRequest, reason: "chunk data is not followed by CRLF") }
                    return .needMoreBytes
                }
                guard line.isEmpty else { return .reject(.badRequest, reason: "chunk data is longer than its size") }
                chunk = .size
            case .trailers(let bytes):
                // Trailer fields are read and ignored, within the head's size limit. Bytes are
                // counted as they arrive, terminators included, so a line judged whole or in
                // pieces gets the same answer (the fuzzer checks this).
                let lineStart = start
                guard let line = takeLine(maximum: limits.maximumHeaderBytes) else {
                    if bytes + buffer.count - start > limits.maximumHeaderBytes {
                        return .reject(.requestHeaderFieldsTooLarge, reason: "the trailer section is larger than \(limits.maximumHeaderBytes) bytes")
                    }
                    return .needMoreBytes
                }
                let total = bytes + start - lineStart
                if total > limits.maximumHeaderBytes {
                    return .reject(.requestHeaderFieldsTooLarge, reason: "the trailer section is larger than \(limits.maximumHeaderBytes) bytes")
                }
                if line.isEmpty {
                    state = .head
                    continuePending = false
                    return .request(request)
                }
                chunk = .trailers(bytes: total)
            }
        }
    }

    /// The next line without its CRLF (or LF), consumed; nil when no line end has arrived within
    /// `maximum` bytes (a bare CR inside stays in the line for the caller to refuse).
    private mutating func takeLine(maximum: Int) -> ArraySlice<UInt8>? {
        let end = min(buffer.count, start + maximum + 2)
        guard let newline = buffer[start..<end].firstIndex(of: 0x0A) else { return nil }
        var lineEnd = newline
        if lineEnd > start, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        let line = buffer[start..<lineEnd]
        start = newline + 1
        return line
    }

    /// `1a`, `1A;name=value`: the hex size before any extension; nil when malformed or absurd.
    static func chunkSize(_ line: ArraySlice<UInt8>) -> Int? {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                return digits > 0 ? size : nil
            default:
                return nil
            }
            digits += 1
            guard digits <= 15 else { return nil }  // 2^60: far past any body limit, never overflows
            size = size << 4 | value
        }
        return digits > 0 ? size : nil
    }
}
