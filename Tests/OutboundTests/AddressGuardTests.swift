import Outbound
import Testing

/// Where webhooks may go: the rules as a table, at each block's edges.
@Suite struct AddressGuardTests {
    static let closed = OutboundPolicy()
    static let open = try! OutboundPolicy(parsing: "hooks.internal, 10.1.0.0/16 ,::1, fd00::/8")

    @Test(arguments: [
        // Public: allowed by default.
        ("93.184.216.34", true, true), ("2606:2800:220:1:248:1893:25c8:1946", true, true), ("8.8.8.8", true, true),
        // Link-local, metadata and non-unicast: never, whatever is allowed.
        ("169.254.169.254", false, false), ("169.254.0.0", false, false), ("169.254.255.255", false, false),
        ("::ffff:169.254.169.254", false, false), ("fe80::1", false, false), ("febf::1", false, false),
        ("100.100.100.200", false, false), ("fd00:ec2::254", false, false), ("0.0.0.0", false, false), ("::", false, false),
        ("224.0.0.1", false, false), ("255.255.255.255", false, false), ("ff02::1", false, false),
        // Just outside link-local: public.
        ("169.253.255.255", true, true), ("169.255.0.0", true, true), ("fec0::1", true, true),
        // This machine and private networks: only when allowed.
        ("127.0.0.1", false, false), ("127.255.255.255", false, false), ("::1", false, true), ("::ffff:127.0.0.1", false, false),
        ("10.0.0.1", false, false), ("10.1.2.3", false, true), ("10.1.255.255", false, true), ("10.2.0.0", false, false),
        ("172.16.0.1", false, false), ("172.31.255.255", false, false), ("172.32.0.0", true, true),
        ("192.168.1.1", false, false), ("100.64.0.1", false, false), ("fd12::1", false, true),
        // More metadata services: Azure's WireServer, GCP's over IPv6 (inside an allowed fd00::/8 too), Oracle's.
        ("168.63.129.16", false, false), ("fd20:ce::254", false, false), ("192.0.0.192", false, false),
        // IPv6 that leads to IPv4 is judged as the IPv4 it carries: NAT64, 6to4, IPv4-compatible.
        ("64:ff9b::a9fe:a9fe", false, false), ("64:ff9b:1::a9fe:a9fe", false, false), ("2002:a9fe:a9fe::1", false, false),
        ("::169.254.169.254", false, false), ("64:ff9b::a01:203", false, true), ("64:ff9b::808:808", true, true),
        ("2002:0808:0808::1", true, true), ("64:ff9b::7f00:1", false, false),
    ])
    func addresses(address: String, closedAllows: Bool, openAllows: Bool) throws {
        let ip = try #require(IPAddress(address))
        #expect((Self.closed.refusal(connectingTo: ip, host: "example.com") == nil) == closedAllows, "\(address)")
        #expect((Self.open.refusal(connectingTo: ip, host: "example.com") == nil) == openAllows, "\(address)")
    }

    /// A host named in the allow list may resolve to a private address; never to a metadata one.
    @Test func anAllowedNameReachesItsPrivateAddressButNotMetadata() throws {
        #expect(Self.open.refusal(connectingTo: IPAddress("192.168.7.7")!, host: "hooks.internal") == nil)
        #expect(Self.open.refusal(connectingTo: IPAddress("192.168.7.7")!, host: "HOOKS.internal.") == nil)
        #expect(Self.open.refusal(connectingTo: IPAddress("169.254.169.254")!, host: "hooks.internal") != nil)
        #expect(Self.open.refusal(connectingTo: IPAddress("192.168.7.7")!, host: "other.internal") != nil)
    }

    /// Before any lookup (at POST): literal addresses are judged, metadata names refused, other names left to connect time.
    @Test func hostsAreJudgedBeforeLookup() {
        #expect(Self.closed.refusal(host: "169.254.169.254") != nil)
        #expect(Self.closed.refusal(host: "[fe80::1]") != nil)
        #expect(Self.closed.refusal(host: "127.0.0.1") != nil)
        #expect(Self.closed.refusal(host: "metadata.google.internal") != nil)
        #expect(Self.closed.refusal(host: "Metadata.Google.Internal.") != nil)
        #expect(Self.open.refusal(host: "metadata.google.internal") != nil)
        #expect(Self.closed.refusal(host: "localhost") == nil)  // judged by its addresses when connecting
        #expect(Self.closed.refusal(host: "hooks.example.com") == nil)
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0.0/", "/8", "hooks..internal", "-bad.example", "10.0.0.0/8/8", "a b", "::1/129", "10.0.0.0/+8"])
    func badAllowEntriesAreRefusedByName(entry: String) {
        #expect(throws: OutboundPolicyError.self) { try OutboundPolicy(parsing: "example.com, \(entry)") }
    }

    @Test func rangesParseAtTheirLimits() throws {
        #expect(AddressRange("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(!AddressRange("0.0.0.0/0")!.contains(IPAddress("::1")!))
        #expect(AddressRange("10.0.0.7/32")!.contains(IPAddress("10.0.0.7")!))
        #expect(!AddressRange("10.0.0.7/32")!.contains(IPAddress("10.0.0.6")!))
        #expect(AddressRange("fd00::/8")!.contains(IPAddress("fdff:ffff::1")!))
        #expect(try OutboundPolicy(parsing: "").allowedRanges.isEmpty)
    }
}
