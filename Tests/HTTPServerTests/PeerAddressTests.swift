import Glibc
@testable import HTTPServer
import Testing

/// What the per-client cap counts by.
@Suite struct PeerAddressTests {
    static func address(_ text: String) -> PeerAddress {
        var storage = sockaddr_storage()
        if text.contains(":") {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    address.pointee.sin6_family = sa_family_t(AF_INET6)
                    _ = inet_pton(AF_INET6, text, &address.pointee.sin6_addr)
                }
            }
        } else {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    address.pointee.sin_family = sa_family_t(AF_INET)
                    _ = inet_pton(AF_INET, text, &address.pointee.sin_addr)
                }
            }
        }
        return PeerAddress(storage)
    }

    @Test func ipv4CountsByAddressAndIPv6ByItsSlash64() {
        #expect(Self.address("127.0.0.2").description == "127.0.0.2")
        #expect(Self.address("::ffff:127.0.0.2").description == "127.0.0.2")
        #expect(Self.address("2001:db8:1:2::5") == Self.address("2001:db8:1:2:ffff::9"))
        #expect(Self.address("2001:db8:1:2::5").description == "2001:db8:1:2::/64")
        #expect(Self.address("2001:db8:1:3::5") != Self.address("2001:db8:1:2::5"))
    }
}
