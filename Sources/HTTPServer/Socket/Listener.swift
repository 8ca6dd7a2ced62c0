import Dispatch
import Glibc

/// A listening TCP socket, IPv4 or IPv6, non-blocking, accepting through a Dispatch read source.
final class Listener: @unchecked Sendable {
    // @unchecked: `source` is set once in `start` and otherwise touched only on `queue`.
    let fd: Int32
    /// The address actually bound: with port 0, the port the kernel picked.
    let host: String
    let port: Int
    private let queue = DispatchQueue(label: "kairos.http.accept")
    private var source: DispatchSourceRead?
    private var isPaused = false
    private var isStopped = false

    /// Binds `host:port` (a name, an IPv4 or an IPv6 address; port 0 picks a free one) with
    /// `SO_REUSEADDR`, and listens.
    init(host: String, port: Int, backlog: Int32 = 1024) throws(SocketError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw SocketError("resolving \"\(host)\": \(String(cString: gai_strerror(status)))", code: 0)
        }
        defer { freeaddrinfo(results) }
        var lastError = SocketError("bind", code: EADDRNOTAVAIL)
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard fd >= 0 else {
                lastError = SocketError("socket")
                continue
            }
            do throws(SocketError) {
                try Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
                guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { throw SocketError("bind to \(host):\(port)") }
                guard Glibc.listen(fd, backlog) == 0 else { throw SocketError("listen") }
                try Socket.setNonBlocking(fd)
                self.fd = fd
                self.host = host
                self.port = Self.boundPort(fd)
                return
            } catch {
                lastError = error
                Socket.close(fd)
            }
        }
        throw lastError
    }

    private static func boundPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        if storage.ss_family == sa_family_t(AF_INET6) {
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        }
        return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
    }

    /// Calls `accepted` on the accept queue for every new connection's descriptor (non-blocking,
    /// close-on-exec) with its peer's address. Running out of descriptors pauses accepting for
    /// 100 ms rather than spinning.
    func start(accepted: @escaping @Sendable (Int32, PeerAddress) -> Void, onError: @escaping @Sendable (SocketError) -> Void) {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [unowned self] in
            while true {
                var storage = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let client = withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &length) }
                }
                if client >= 0 {
                    // Glibc's module map hides accept4, so the flags are set afterwards.
                    _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                    guard (try? Socket.setNonBlocking(client)) != nil else {
                        Socket.close(client)
                        continue
                    }
                    accepted(client, PeerAddress(storage))
                    continue
                }
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    onError(SocketError("accept"))
                    self.source?.suspend()
                    isPaused = true
                    queue.asyncAfter(deadline: .now() + 0.1) { [weak self] in
                        guard let self, self.isPaused else { return }
                        self.isPaused = false
                        self.source?.resume()
                    }
                    return
                default:
                    onError(SocketError("accept"))
                    return
                }
            }
        }
        source.setCancelHandler { [fd] in Socket.close(fd) }
        self.source = source
        source.resume()
    }

    /// Stops accepting and closes the socket; returns once no accept is under way.
    func stop() {
        queue.sync {
            guard !isStopped else { return }
            isStopped = true
            guard let source else { return Socket.close(fd) }
            // A suspended source never runs its cancel handler, which closes the socket.
            if isPaused {
                isPaused = false
                source.resume()
            }
            source.cancel()
            self.source = nil
        }
    }
}

/// A connection's peer address without its port: what per-client limits count by. An IPv4
/// address mapped into IPv6 (`::ffff:127.0.0.2`) is its IPv4 address; another IPv6 address
/// counts by its /64, the block one host is usually given, so a host cannot take a new
/// address for every connection.
struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    let description: String

    init(_ text: String) { description = text }

    init(_ storage: sockaddr_storage) {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var bytes = address.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &bytes, &text, socklen_t(text.count))
                }
            }
        case AF_INET6:
            withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var bytes = address.pointee.sin6_addr
                    let raw = withUnsafeBytes(of: &bytes) { Array($0) }
                    if raw[0..<10].allSatisfy({ $0 == 0 }) && raw[10] == 0xFF && raw[11] == 0xFF {
                        var v4 = in_addr()
                        withUnsafeMutableBytes(of: &v4) { $0.copyBytes(from: raw[12..<16]) }
                        _ = inet_ntop(AF_INET, &v4, &text, socklen_t(text.count))
                    } else {
                        var prefix = in6_addr()
                        withUnsafeMutableBytes(of: &prefix) { $0.copyBytes(from: raw[0..<8]) }
                        _ = inet_ntop(AF_INET6, &prefix, &text, socklen_t(text.count))
                    }
                }
            }
        default:
            break
        }
        let decoded = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let isBlock = Int32(storage.ss_family) == AF_INET6 && !decoded.contains(".")
        description = decoded.isEmpty ? "unknown" : isBlock ? decoded + "/64" : decoded
    }
}
