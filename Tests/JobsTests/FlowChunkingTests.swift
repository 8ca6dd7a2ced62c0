@testable import Jobs
import JSON
import Chronology
import Testing

/// A batch's flows go out in statements of bounded size, in order, none lost or repeated.
@Suite struct FlowChunkingTests {
    @Test func flowsSplitIntoRunsOfBoundedBytesInOrder() {
        var flows = FlowColumns()
        for index in 0..<10 {
            // Each argument: {"pad":"xxx…"} of 20 + 10 bytes.
            flows.append(FlowRequest(flowName: "f", arguments: ["pad": .string(String(repeating: "x", count: 20))]), job: "j\(index)", slot: Timestamp(secondsSinceEpoch: 0), position: index)
        }
        let chunks = flows.chunked(maximumArgumentBytes: 100)
        #expect(chunks.map(\.count) == [3, 3, 3, 1])
        #expect(chunks.flatMap(\.jobIDs) == (0..<10).map { "j\($0)" })
        #expect(flows.chunked(maximumArgumentBytes: 1 << 20).map(\.count) == [10])
        // A single flow past the limit goes alone rather than never.
        #expect(flows.chunked(maximumArgumentBytes: 10).map(\.count) == Array(repeating: 1, count: 10))
        #expect(FlowColumns().chunked(maximumArgumentBytes: 100).isEmpty)
    }
}
