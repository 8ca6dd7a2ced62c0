import Foundation
import TestSupport
import Testing

/// Kairos as an attacker would treat it, over real sockets.
@Suite struct HostileClientTests {
    /// 5,000 connections from one address that send nothing take at most its share of the
    /// slots: readiness from another address answers at once.
    @Test func fiveThousandSilentConnectionsFromOneAddressStarveNoOtherAddress() async throws {
        try await APIFixture.with { api throws in
            var silent: [RawHTTPConnection] = []
            silent.reserveCapacity(5000)
            for _ in 0..<5000 {
                silent.append(try RawHTTPConnection(port: api.port, source: "127.0.0.2", timeout: 5))
            }
            let stopwatch = Stopwatch()
            let ready = try RawHTTPConnection(port: api.port, source: "127.0.0.1").get("/api/v1/readiness")
            #expect(ready.status == 200, "\(ready.text)")
            #expect(stopwatch.elapsed < 1, "readiness took \(stopwatch.elapsed) s")
            withExtendedLifetime(silent) {}
        }
    }
}
