import Foundation
import Glibc

/// A blocking TCP client for tests: sends exactly the bytes it is given (malformed ones too)
/// and reads responses the way a strict client would.
/// Used by one thread at a time; tests hand connections between threads only before or after use.
public final class RawHTTPConnection: @unchecked Sendable {
    public let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `host:port` (IPv4 or IPv6 literal) from `source` (an IPv4 address of this
    /// machine, such as 127.0.0.2 of the loopback range; the kernel's choice when nil); reads
    /// time out after `timeout` seconds.
    public init(port: Int, host: String = "127.0.0.1", source: String? = nil, timeout: Double = 30) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let info = results else {
            throw TestDatabaseError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(results) }
        // Held in a local until connected: once `fd` is set, a throw runs deinit, which closes it
        // (closing it here as well would close whatever has since been given that number).
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        guard fd >= 0 else { throw TestDatabaseError("socket failed: errno \(errno)") }
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            guard inet_pton(AF_INET, source, &address.sin_addr) == 1 else {
                Glibc.close(fd)
                throw TestDatabaseError("\(source) is not an IPv4 address")
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let code = errno
                Glibc.close(fd)
                throw TestDatabaseError("bind to \(source) failed: errno \(code)")
            }
        }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestDatabaseError("connect to \(host):\(port) failed: errno \(code)")
        }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    /// Hangs up at once, both ways, as a client that gives up does (the descriptor itself is
    /// closed when this is let go of).
    public func closeNow() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }  // a signal (or a freezing host) interrupted it
            guard sent > 0 else { throw TestDatabaseError("send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Sends a GET with the given extra header lines (each ending in CRLF) and reads its response.
    public func get(_ path: String, headers: String = "") throws -> RawHTTPResponse {
        try send("GET \(path) HTTP/1.1\r\nHost: test\r\n\(headers)\r\n")
        return try readResponse()
    }

    /// Sends `method path` with a JSON body, if any, and reads its response.
    public func request(_ method: String, _ path: String, body: String? = nil) throws -> RawHTTPResponse {
        let content = body.map { "Content-Type: application/json\r\nContent-Length: \($0.utf8.count)\r\n\r\n\($0)" } ?? "Content-Length: 0\r\n\r\n"
        try send("\(method) \(path) HTTP/1.1\r\nHost: test\r\n\(content)")
        return try readResponse()
    }

    /// Half-closes: the server reads end-of-file.
    public func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Reads one response. Interim (1xx) responses are returned too, as their own responses.
    public func readResponse(isHead: Bool = false) throws -> RawHTTPResponse {
        let headEnd = try readUntil { buffer in Self.find([13, 10, 13, 10], in: buffer) }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestDatabaseError("bad status line: \(head)") }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : "")
        }
        var response = RawHTTPResponse(
            status: status, reason: statusLine.count > 2 ? String(statusLine[2]) : "", headers: headers, body: [])
        if status >= 200, !isHead, status != 204, status != 304, let length = response.header("Content-Length").flatMap({ Int($0) }) {
            _ = try readUntil { $0.count >= length ? length : nil }
            response.body = Array(buffer[..<length])
            buffer.removeFirst(length)
        }
        return response
    }

    /// True when the server closes the connection (end-of-file or reset) within `timeout` seconds
    /// of running time (``Stopwatch``: a frozen host does not use it up), having sent nothing more.
    public func closedByServer(within timeout: Double = 5) -> Bool {
        let stopwatch = Stopwatch()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while stopwatch.elapsed < timeout {
            // Short waits, so the remaining time is judged again after a stall.
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue } else { return true } }
            buffer += chunk[..<count]
        }
        return false
    }

    private func readUntil(_ found: ([UInt8]) -> Int?) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let position = found(buffer) { return position }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { throw TestDatabaseError("the server closed the connection; had \(buffer.count) bytes: \(String(decoding: buffer, as: UTF8.self))") }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw TestDatabaseError("recv failed: errno \(errno) (timeout?)") }
            buffer += chunk[..<count]
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<index + needle.count]) == needle { return index }
        }
        return nil
    }
}

public struct RawHTTPResponse: Sendable {
    public let status: Int
    public let reason: String
    public let headers: [(String, String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Descriptors this process holds for the server side of connections to `port` (sockets whose
/// local port it is, the listening one aside), to check that a server leaks none. Only that
/// server's: a count of every descriptor would see the tests running beside it.
public func serverSideDescriptorCount(port: Int) -> Int {
    var inodes: Set<Substring> = []
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = readProcFile(table) else { continue }
        // Each row: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        for row in text.split(separator: "\n").dropFirst() {
            let fields = row.split(separator: " ")
            guard fields.count > 9, let local = fields[1].split(separator: ":").last,
                Int(local, radix: 16) == port, fields[3] != "0A"  // 0A: listening
            else { continue }
            inodes.insert(fields[9])
        }
    }
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return descriptors.count { name in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
            target.hasPrefix("socket:["), target.hasSuffix("]")
        else { return false }
        return inodes.contains(target.dropFirst(8).dropLast())
    }
}

/// A /proc file's text, read to its end (it reports a size of 0, which Foundation trusts).
private func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { Glibc.close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
