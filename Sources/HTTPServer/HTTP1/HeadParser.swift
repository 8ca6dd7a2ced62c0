/// Parses one complete request head (request line and header fields, up to the blank line) and
/// decides how its body is framed.
struct HeadParser {
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
    }

    struct Head {
        var request: HTTPRequest
        var body: Framing
        var expectsContinue: Bool
    }

    struct Rejection: Error {
        let status: HTTPStatus
        let reason: String
        init(_ status: HTTPStatus, _ reason: String) {
            self.status = status
            self.reason = reason
        }
    }

    let limits: HTTPLimits

    func parse(_ head: ArraySlice<UInt8>) -> Result<Head, Rejection> {
        do {
            return .success(try parseOrThrow(head))
        } catch {
            return .failure(error)
        }
    }

    /// The fields that decide framing and connection handling, noted while the head is read so
    /// no second pass over the headers is needed.
    private struct MessageFields {
        var hostCount = 0
        var contentLengths: [ArraySlice<UInt8>] = []
        var transferCodings: [String] = []
        var hasTransferEncoding = false
        var connection: [String] = []
        var expect: String?

        mutating func note(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
            switch name.count {
            case 4 where Self.equal(name, "host"): hostCount += 1
            case 6 where Self.equal(name, "expect"): expect = String(decoding: value, as: UTF8.self)
            case 10 where Self.equal(name, "connection"): connection += Self.tokens(value)
            case 14 where Self.equal(name, "content-length"): contentLengths.append(value)
            case 17 where Self.equal(name, "transfer-encoding"):
                hasTransferEncoding = true
                transferCodings += Self.tokens(value)
            default: break
            }
        }

        private static func equal(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
            let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
            return zip(bytes, expected).allSatisfy { $0 | 0x20 == $1 }
        }

        /// Comma-separated tokens, trimmed and lowercased.
        private static func tokens(_ value: ArraySlice<UInt8>) -> [String] {
            value.split(separator: UInt8(ascii: ",")).map { $0.trimmingASCIISpaces().lowercased() }.filter { !$0.isEmpty }
        }
    }

    private func parseOrThrow(_ head: ArraySlice<UInt8>) throws(Rejection) -> Head {
        var lineStart = head.startIndex
        var version = HTTPVersion.http11
        var method = HTTPMethod.get
        var target = ""
        var headers = HTTPHeaders()
        var fields = MessageFields()
        var isFirstLine = true
        while lineStart < head.endIndex {
            let lineEnd = head[lineStart...].firstIndex(of: 0x0A) ?? head.endIndex
            let line = try stripCR(head[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            if isFirstLine {
                (method, target, version) = try parseRequestLine(line)
                isFirstLine = false
                continue
            }
            guard headers.count < limits.maximumHeaderCount else {
                throw Rejection(.requestHeaderFieldsTooLarge, "more than \(limits.maximumHeaderCount) header fields")
            }
            let (name, value) = try parseField(line)
            fields.note(name: name, value: value)
            headers.add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
        guard !isFirstLine else { throw Rejection(.badRequest, "empty request") }
        if version.major == 1 && version.minor > 1 { version = .http11 }

        // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host.
        if version == .http11 && fields.hostCount != 1 {
            throw Rejection(.badRequest, fields.hostCount == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header")
        }

        let framing = try bodyFraming(fields, version: version)
        let expectsContinue = try expectation(fields.expect, version: version, framing: framing)
        let keepAlive = version == .http11 ? !fields.connection.contains("close") : fields.connection.contains("keep-alive")

        let parsedTarget: RequestTarget
        switch RequestTarget.parse(target) {
        case .success(let parsed): parsedTarget = parsed
        case .failure(let error): throw Rejection(.badRequest, error.reason)
        }
        if target == "*" && method != .options { throw Rejection(.badRequest, "the target * is only for OPTIONS") }
        let request = HTTPRequest(
            method: method, target: target, path: parsedTarget.path, pathSegments: parsedTarget.segments,
            query: parsedTarget.query, version: version, headers: headers, body: [], keepAlive: keepAlive)
        return Head(request: request, body: framing, expectsContinue: expectsContinue)
    }

    /// RFC 9112 §6: how the body is delimited, refusing every ambiguity a proxy could read differently.
    private func bodyFraming(_ fields: MessageFields, version: HTTPVersion) throws(Rejection) -> Framing {
        if fields.hasTransferEncoding {
            guard fields.contentLengths.isEmpty else {
                throw Rejection(.badRequest, "both Content-Length and Transfer-Encoding are present; send only one")
            }
            guard version == .http11 else { throw Rejection(.badRequest, "Transfer-Encoding is not allowed in HTTP/1.0") }
            for coding in fields.transferCodings where coding != "chunked" {
                throw Rejection(.notImplemented, "transfer coding \"\(coding)\" is not supported; use chunked")
            }
            guard fields.transferCodings == ["chunked"] else { throw Rejection(.badRequest, "invalid Transfer-Encoding") }
            return .chunked
        }
        guard !fields.contentLengths.isEmpty else { return .none }
        // Repeated or comma-joined lengths must all agree (RFC 9112 §6.3, item 5).
        let values = fields.contentLengths.flatMap { $0.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) }
            .map { $0.trimmingASCIISpaces() }
        guard let first = values.first, values.allSatisfy({ $0 == first }),
            !first.isEmpty, first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { throw Rejection(.badRequest, "invalid Content-Length") }
        guard first.utf8.count <= 15, let length = Int(first) else {
            throw Rejection(.contentTooLarge, "the body is larger than the limit of \(limits.maximumBodyBytes) bytes")
        }
        return length == 0 ? .none : .length(length)
    }

    private func expectation(_ expect: String?, version: HTTPVersion, framing: Framing) throws(Rejection) -> Bool {
        guard let expect, version == .http11 else { return false }  // 1.0 ignores it (RFC 9110 §10.1.1)
        guard expect.trimmingASCIISpaces().lowercased() == "100-continue" else {
            throw Rejection(.expectationFailed, "only the expectation 100-continue is supported")
        }
        return framing != .none
    }

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(Rejection) -> (HTTPMethod, String, HTTPVersion) {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw Rejection(.badRequest, "malformed request line; expected METHOD TARGET HTTP/1.1")
        }
        guard parts[0].allSatisfy(Self.isTokenByte) else { throw Rejection(.badRequest, "invalid method") }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Rejection(.badRequest, "the request target contains spaces or control characters")
        }
        let version = parts[2]
        guard version.count == 8, version.starts(with: "HTTP/".utf8),
            let major = Self.digit(version[version.startIndex + 5]), version[version.startIndex + 6] == UInt8(ascii: "."),
            let minor = Self.digit(version[version.startIndex + 7])
        else { throw Rejection(.badRequest, "malformed HTTP version") }
        guard major == 1 else { throw Rejection(.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are supported") }
        return (
            HTTPMethod(String(decoding: parts[0], as: UTF8.self)), String(decoding: parts[1], as: UTF8.self),
            HTTPVersion(major: major, minor: minor)
        )
    }

    private func parseField(_ line: ArraySlice<UInt8>) throws(Rejection) -> (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        guard let first = line.first else { throw Rejection(.badRequest, "empty header line") }
        guard first != UInt8(ascii: " ") && first != UInt8(ascii: "\t") else {
            throw Rejection(.badRequest, "folded header lines (obs-fold) are not accepted")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw Rejection(.badRequest, "header line without ':'") }
        let name = line[line.startIndex..<colon]
        // RFC 9112 §5.1: no white space between the name and the colon.
        guard !name.isEmpty, name.allSatisfy(Self.isTokenByte) else { throw Rejection(.badRequest, "invalid header name") }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == 0x20 || byte == 0x09 { value = value.dropFirst() }
        while let byte = value.last, byte == 0x20 || byte == 0x09 { value = value.dropLast() }
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            throw Rejection(.badRequest, "header \(String(decoding: name, as: UTF8.self)) contains control characters")
        }
        return (name, value)
    }

    /// The line without its final CR; any other CR is refused (a bare CR is a smuggling vector).
    private func stripCR(_ line: ArraySlice<UInt8>) throws(Rejection) -> ArraySlice<UInt8> {
        var line = line
        if line.last == 0x0D { line = line.dropLast() }
        guard !line.contains(0x0D) else { throw Rejection(.badRequest, "bare CR in the request head") }
        return line
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenBytes[Int(byte)] }

    private static let tokenBytes: [Bool] = (0...255).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
