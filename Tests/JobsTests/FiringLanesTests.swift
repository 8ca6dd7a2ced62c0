import Foundation
import TestSupport
import Testing

@testable import Jobs

/// The helper threads of ``FiringLanes``, with a stand-in for a batch: they fire when asked, go
/// on while their batches are full, and are idle, or stopped, when told so.
@Suite struct FiringLanesTests {
    @Test func helpersFireWhileTheirBatchesAreFullThenRest() {
        let fullBatchesLeft = LockedBox(10)
        let calls = Arrivals<UInt>()
        let lanes = FiringLanes(helpers: 2, name: "test-lane") {
            calls.append(UInt(pthread_self()))
            return fullBatchesLeft.update { left in
                defer { left -= 1 }
                return left > 0
            }
        }
        defer { lanes.stop() }
        // Nothing happens before a request.
        Thread.sleep(forTimeInterval: 0.1)
        #expect(calls.all.isEmpty)
        lanes.assist()
        lanes.waitUntilIdle()
        // Ten full batches, then each helper's batch that was not full: 12 in all.
        #expect(calls.all.count == 12)
        #expect(!calls.all.contains(UInt(pthread_self())))
        // Asked again, each helper fires one batch (empty now) and rests.
        lanes.assist()
        lanes.waitUntilIdle()
        #expect(calls.all.count == 14)
    }

    @Test func stoppingEndsHelpersThatAreFiring() {
        let started = Arrivals<Bool>()
        let lanes = FiringLanes(helpers: 1, name: "test-lane") {
            started.append(true)
            Thread.sleep(forTimeInterval: 0.01)
            return true  // always full: only the stop ends it
        }
        lanes.assist()
        #expect(started.wait { $0 } != nil)
        lanes.stop()
        let count = started.all.count
        Thread.sleep(forTimeInterval: 0.05)
        #expect(started.all.count == count)
    }
}
