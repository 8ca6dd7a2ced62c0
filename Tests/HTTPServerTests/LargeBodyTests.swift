@testable import HTTPServer
import Testing

/// Routes that take bodies over the usual limit, and the shared bound on such bodies in flight.
@Suite struct LargeBodyTests {
    private static var limits: HTTPLimits {
        var limits = HTTPLimits()
        limits.maximumBodyBytes = 100
        limits.largeBodyRoutes = [LargeBodyRoute(.post, "/bulk", maximumBytes: 1000)]
        return limits
    }

    private static func head(_ path: String, method: String = "POST", length: Int) -> [UInt8] {
        Array("\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\n\r\n".utf8)
    }

    private static func step(_ parser: inout RequestParser, _ bytes: [UInt8]) -> String {
        parser.append(bytes)
        switch parser.next() {
        case .needMoreBytes: return "more"
        case .sendContinue: return "continue"
        case .request(let request): return "request \(request.body.count)"
        case .reject(let status, _): return "reject \(status.code)"
        }
    }

    @Test func onlyTheNamedRouteTakesMoreAndOnlyUpToItsLimit() {
        #expect(Self.limits.maximumBodyBytes(method: .post, path: "/bulk") == 1000)
        #expect(Self.limits.maximumBodyBytes(method: .get, path: "/bulk") == 100)
        #expect(Self.limits.maximumBodyBytes(method: .post, path: "/bulk/x") == 100)
        var parser = RequestParser(limits: Self.limits)
        #expect(Self.step(&parser, Self.head("/bulk", length: 1000) + Array(repeating: 0x20, count: 1000)) == "request 1000")
        var over = RequestParser(limits: Self.limits)
        #expect(Self.step(&over, Self.head("/bulk", length: 1001)) == "reject 413")
        var elsewhere = RequestParser(limits: Self.limits)
        #expect(Self.step(&elsewhere, Self.head("/other", length: 101)) == "reject 413")
    }

    @Test func largeBodiesInFlightShareOneBudgetGivenBackWhenAnswered() {
        let budget = LargeBodyBudget(capacity: 1500)
        var first = RequestParser(limits: Self.limits, largeBodies: budget)
        var second = RequestParser(limits: Self.limits, largeBodies: budget)
        // The body's bytes are taken when its head arrives.
        #expect(Self.step(&first, Self.head("/bulk", length: 1000)) == "more")
        #expect(budget.bytesInUse == 1000)
        #expect(Self.step(&second, Self.head("/bulk", length: 501)) == "reject 503")
        // Exactly what is left still fits; a body within the usual limit never counts.
        var third = RequestParser(limits: Self.limits, largeBodies: budget)
        #expect(Self.step(&third, Self.head("/bulk", length: 500)) == "more")
        #expect(budget.bytesInUse == 1500)
        var small = RequestParser(limits: Self.limits, largeBodies: budget)
        #expect(Self.step(&small, Self.head("/bulk", length: 100) + Array(repeating: 0x20, count: 100)) == "request 100")
        #expect(budget.bytesInUse == 1500)

        #expect(Self.step(&first, Array(repeating: 0x20, count: 1000)) == "request 1000")
        #expect(budget.bytesInUse == 1500)  // held while the request is handled
        first.releaseLargeBody()
        first.releaseLargeBody()  // twice gives back nothing more
        #expect(budget.bytesInUse == 500)
        third.releaseLargeBody()
        #expect(budget.bytesInUse == 0)
        var again = RequestParser(limits: Self.limits, largeBodies: budget)
        #expect(Self.step(&again, Self.head("/bulk", length: 1000)) == "more")
    }
}
