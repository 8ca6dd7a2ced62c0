import Foundation
import Glibc

/// An IPv4 or IPv6 address as its bytes (4 or 16). An IPv4-mapped IPv6 address
/// (`::ffff:169.254.169.254`) is its IPv4 address: a guard must not be passed by spelling one
/// address two ways.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(bytes: withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        // A bracketed literal is how a URL writes one.
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return nil }
        self.init(bytes: withUnsafeBytes(of: &v6) { Array($0) })
    }

    init(bytes: [UInt8]) {
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xff, 0xff]
        self.bytes = bytes.count == 16 && Array(bytes[0..<12]) == mappedPrefix ? Array(bytes[12...]) : bytes
    }

    /// The address a socket address holds (IPv4 or IPv6); nil for any other family.
    public init?(socketAddress pointer: UnsafeRawPointer) {
        switch Int32(pointer.load(as: sockaddr.self).sa_family) {
        case AF_INET:
            var address = pointer.loadUnaligned(as: sockaddr_in.self).sin_addr
            self.init(bytes: withUnsafeBytes(of: &address) { Array($0) })
        case AF_INET6:
            var address = pointer.loadUnaligned(as: sockaddr_in6.self).sin6_addr
            self.init(bytes: withUnsafeBytes(of: &address) { Array($0) })
        default:
            return nil
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// The IPv4 address an IPv6 one carries, where a translator or tunnel would deliver it:
    /// NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16), IPv4-compatible (::/96).
    var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        if bytes[0..<12].elementsEqual([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])
            || bytes[0..<6].elementsEqual([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01])
            || (bytes[0..<12].allSatisfy { $0 == 0 } && bytes[12...].contains { $0 != 0 } && !(bytes[12..<15].allSatisfy { $0 == 0 }))
        {
            return IPAddress(bytes: Array(bytes[12...]))
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    public var description: String {
        var buffer = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        buffer.withUnsafeMutableBufferPointer { text in
            _ = text.withMemoryRebound(to: CChar.self) { inet_ntop(isIPv4 ? AF_INET : AF_INET6, &copy, $0.baseAddress, socklen_t($0.count)) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// A block of addresses in CIDR notation (`10.0.0.0/8`, `fd00::/8`); a bare address is a block of one.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    public let base: IPAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let base = IPAddress(String(parts[0])) else { return nil }
        let bits = base.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length), parts[1].allSatisfy(\.isNumber) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.base = base
    }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == base.bytes.count else { return false }
        var left = prefixLength
        for (a, b) in zip(address.bytes, base.bytes) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xff : ~(0xff >> UInt8(left))
            guard a & mask == b & mask else { return false }
            left -= 8
        }
        return true
    }

    public var description: String { "\(base)/\(prefixLength)" }
}

/// Where webhooks may go. Public addresses are allowed; the machine itself and private networks
/// only when `KAIROS_WEBHOOK_ALLOW` names them (a host name, or a CIDR block); link-local and
/// cloud metadata addresses never, whatever it says: from inside a cloud, those hand out the
/// machine's credentials to whoever asks.
public struct OutboundPolicy: Sendable, Equatable {
    public let allowedHosts: Set<String>
    public let allowedRanges: [AddressRange]

    public init(allowedHosts: Set<String> = [], allowedRanges: [AddressRange] = []) {
        self.allowedHosts = Set(allowedHosts.map(Self.normalized))
        self.allowedRanges = allowedRanges
    }

    /// `KAIROS_WEBHOOK_ALLOW`: host names and CIDR blocks, separated by commas.
    ///
    /// - Throws: ``OutboundPolicyError`` naming an entry that is neither.
    public init(parsing text: String) throws(OutboundPolicyError) {
        var hosts: Set<String> = []
        var ranges: [AddressRange] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            if let range = AddressRange(entry) {
                ranges.append(range)
            } else if Self.isHostName(entry) {
                hosts.insert(entry)
            } else {
                throw OutboundPolicyError("\"\(entry)\" is neither a host name nor an address block such as 10.0.0.0/8")
            }
        }
        self.init(allowedHosts: hosts, allowedRanges: ranges)
    }

    /// Never reached, whatever is allowed: link-local (where cloud metadata services live),
    /// the known metadata addresses, "this network", multicast and broadcast.
    static let alwaysRefused: [AddressRange] = [
        "169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128", "0.0.0.0/8", "::/128",
        "224.0.0.0/4", "255.255.255.255/32", "ff00::/8",
        // Azure's WireServer, GCP's metadata over IPv6, Oracle Cloud's metadata.
        "168.63.129.16/32", "fd20:ce::254/128", "192.0.0.192/32",
    ].map { AddressRange($0)! }

    /// The cloud metadata services' names.
    static let refusedNames: Set<String> = [
        "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    ]

    /// Reached only when allowed: this machine, private and shared networks.
    static let privateRanges: [AddressRange] = [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
        "198.18.0.0/15", "fc00::/7",
    ].map { AddressRange($0)! }

    /// Why a webhook may not go to `host` (a URL's host: a name or an address literal), judged
    /// before any lookup: at `POST /jobs`, so a refused literal address is a 400 there. Nil when
    /// it may (for a name, its addresses are judged again when connecting).
    public func refusal(host: String) -> String? {
        let name = Self.normalized(host)
        if Self.refusedNames.contains(name) { return "\(host) is a cloud metadata service, which webhooks may never call" }
        guard let address = IPAddress(name) else { return nil }
        return refusal(connectingTo: address, host: host)
    }

    /// Why a webhook to `host` may not connect to `address`, one of the addresses it resolved to.
    public func refusal(connectingTo address: IPAddress, host: String) -> String? {
        // An address that leads to an IPv4 one is judged as that one too.
        if let inner = address.embeddedIPv4, let refusal = refusal(connectingTo: inner, host: host) {
            return "\(address) carries \(inner): \(refusal)"
        }
        if Self.alwaysRefused.contains(where: { $0.contains(address) }) {
            return "\(address) is a link-local, metadata or non-unicast address, which webhooks may never call"
        }
        guard Self.privateRanges.contains(where: { $0.contains(address) }) else { return nil }
        if allowedHosts.contains(Self.normalized(host)) || allowedRanges.contains(where: { $0.contains(address) }) { return nil }
        return "\(address) (of \(host)) is a loopback or private address; KAIROS_WEBHOOK_ALLOW must name the host or its network"
    }

    static func normalized(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        return name
    }

    static func isHostName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return !text.isEmpty && text.utf8.count <= 253 && labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0 | 0x20) }
        }
    }
}

public struct OutboundPolicyError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
