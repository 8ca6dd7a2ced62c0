import Foundation
import Glibc

/// A TCP server on loopback that accepts connections and never says a word: to a PostgreSQL
/// client, a server that stopped answering (as in a network partition, where nothing resets the
/// connection). It counts the connections made and holds them open until it is closed.
public final class SilentServer: @unchecked Sendable {
    // @unchecked: `accepted` is guarded by `lock`; the descriptor is fixed once listening.
    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var accepted: [Int32] = []
    private var closed = false

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestDatabaseError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            Glibc.close(descriptor)
            throw TestDatabaseError("bind/listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptForever() }
    }

    deinit { close() }

    /// A libpq connection string for this server, with `extra` keywords (`connect_timeout=2`).
    public func connectionString(_ extra: String = "") -> String {
        "host=127.0.0.1 port=\(port) user=nobody dbname=nothing sslmode=disable \(extra)"
    }

    /// How many connections were made so far.
    public var connectionCount: Int { lock.withLock { accepted.count } }

    public func close() {
        let descriptors: [Int32] = lock.withLock {
            guard !closed else { return [] }
            closed = true
            return accepted
        }
        for descriptor in descriptors {
            shutdown(descriptor, Int32(SHUT_RDWR))
            Glibc.close(descriptor)
        }
        // Wakes the accept thread (accept fails with EINVAL), which closes the listener itself:
        // closed here, its number could be reused by another test's listening socket before the
        // thread's next accept, which would then take that server's connection and drop it.
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptForever() {
        defer { Glibc.close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return  // shut down
            }
            let keep = lock.withLock {
                guard !closed else { return false }
                accepted.append(client)
                return true
            }
            if !keep {
                Glibc.close(client)
                return
            }
        }
    }
}
