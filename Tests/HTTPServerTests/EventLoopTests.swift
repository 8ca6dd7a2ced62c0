import Dispatch
import Foundation
import Glibc
import TestSupport
import Testing

@testable import HTTPServer

@Suite struct DeadlineHeapTests {
    @Test func entriesComeOutEarliestFirstAndOnlyWhenDue() {
        var heap = DeadlineHeap()
        var generator = SystemRandomNumberGenerator()
        let times = (0..<1000).map { _ in UInt64.random(in: 1...10_000, using: &generator) }
        for (token, at) in times.enumerated() { heap.insert(.init(at: at, token: UInt64(token))) }
        #expect(heap.popDue(now: 0) == nil)
        var popped: [UInt64] = []
        while let entry = heap.popDue(now: .max) { popped.append(entry.at) }
        #expect(popped == times.sorted())
        #expect(heap.count == 0)
    }

    @Test func popDueStopsAtTheFirstEntryNotYetDue() {
        var heap = DeadlineHeap()
        for at: UInt64 in [30, 10, 20, 40] { heap.insert(.init(at: at, token: at)) }
        #expect(heap.popDue(now: 20)?.at == 10)
        #expect(heap.popDue(now: 20)?.at == 20)
        #expect(heap.popDue(now: 20) == nil)
        #expect(heap.earliest?.at == 30)
    }

    @Test func compactingDropsDeadTokensAndKeepsTheOrder() {
        var heap = DeadlineHeap()
        for at in (0..<100).reversed() { heap.insert(.init(at: UInt64(at), token: UInt64(at % 3))) }
        heap.compact { $0 != 1 }
        #expect(heap.count == 67)
        var popped: [DeadlineHeap.Entry] = []
        while let entry = heap.popDue(now: .max) { popped.append(entry) }
        #expect(popped.map(\.at) == (0..<100).filter { $0 % 3 != 1 }.map(UInt64.init))
    }
}

/// The loop itself, over a real socket pair.
@Suite struct EventLoopTests {
    /// Records what the loop tells it, from the loop's thread.
    final class Recorder: EventLoopClient, @unchecked Sendable {
        let events = Arrivals<String>()
        var onReadable: () -> Void = {}
        func readable() {
            events.append("readable")
            onReadable()
        }
        func writable() { events.append("writable") }
        func deadlineReached(_ at: UInt64) { events.append("deadline \(at)") }
    }

    static func socketPair() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        for fd in fds { try? Socket.setNonBlocking(fd) }
        return (fds[0], fds[1])
    }

    @Test func tasksFromManyThreadsRunInOrderPerThreadOnTheLoopsThread() {
        let loop = EventLoop(name: "test-loop")
        defer { loop.stop() }
        let seen = Arrivals<(Int, Int, pthread_t)>()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for index in 0..<500 {
                loop.execute { seen.append((thread, index, pthread_self())) }
            }
        }
        #expect(seen.waitForAll(timeout: 30) { $0.count == 2000 })
        for thread in 0..<4 {
            #expect(seen.all.filter { $0.0 == thread }.map(\.1) == Array(0..<500))
        }
        // One thread ran them all, and it is none of those that handed them over.
        #expect(Set(seen.all.map(\.2)).count == 1)
        #expect(seen.all[0].2 != pthread_self())
    }

    @Test func aDeadlineIsReachedOnceItHasPassedAndNotForAClientGone() {
        let loop = EventLoop(name: "test-loop")
        defer { loop.stop() }
        let (ours, theirs) = Self.socketPair()
        defer { close(ours); close(theirs) }
        let recorder = Recorder()
        let gone = Recorder()
        let (other, otherPeer) = Self.socketPair()
        defer { close(other); close(otherPeer) }
        let stopwatch = Stopwatch()
        let at = DispatchTime.now().uptimeNanoseconds + 200_000_000
        loop.execute {
            let token = loop.register(ours, recorder)
            loop.schedule(token, at: at)
            let goneToken = loop.register(other, gone)
            loop.schedule(goneToken, at: at - 100_000_000)
            loop.deregister(goneToken)
        }
        #expect(recorder.events.wait(timeout: 10) { $0 == "deadline \(at)" } != nil)
        #expect(stopwatch.elapsed >= 0.19)
        #expect(gone.events.all.isEmpty)
    }

    /// A worker thread that answers a request sets the connection's next deadline itself: one
    /// earlier than any the loop sleeps until must wake it.
    @Test func aDeadlineSetFromAnotherThreadWakesTheSleepingLoop() {
        let loop = EventLoop(name: "test-loop")
        defer { loop.stop() }
        let (ours, theirs) = Self.socketPair()
        defer { close(ours); close(theirs) }
        let recorder = Recorder()
        let token = LockedBox<UInt64>(0)
        loop.execute { token.set(loop.register(ours, recorder)) }
        #expect(eventually { token.get() != 0 })
        // Nothing due, nothing readable: the loop waits with no time limit.
        Thread.sleep(forTimeInterval: 0.1)
        let stopwatch = Stopwatch()
        let at = DispatchTime.now().uptimeNanoseconds + 100_000_000
        loop.schedule(token.get(), at: at)
        #expect(recorder.events.wait(timeout: 10) { $0 == "deadline \(at)" } != nil)
        #expect(stopwatch.elapsed >= 0.09 && stopwatch.elapsed < 5)
    }

    @Test func readabilityIsReportedOnlyWhileWantedAndAHangUpDoesNotSpin() {
        let loop = EventLoop(name: "test-loop")
        defer { loop.stop() }
        let (ours, theirs) = Self.socketPair()
        defer { close(ours) }
        let recorder = Recorder()
        let token = LockedBox<UInt64>(0)
        // Level-triggered: the client stops wanting reads at the first readable, as a
        // connection does while its request is answered.
        recorder.onReadable = { loop.setInterest(token.get(), reading: false, writing: false) }
        loop.execute { token.set(loop.register(ours, recorder)) }
        _ = write(theirs, "x", 1)
        #expect(recorder.events.wait { $0 == "readable" } != nil)
        // The peer hangs up while nothing is wanted: no callback, let alone a stream of them.
        close(theirs)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(recorder.events.all == ["readable"])
        // Wanted again: the hang-up is reported, then writability (a broken pipe is "writable").
        recorder.onReadable = {}
        loop.execute { loop.setInterest(token.get(), reading: true, writing: true) }
        #expect(recorder.events.wait { $0 == "writable" } != nil)
        #expect(recorder.events.all.filter { $0 == "readable" }.count >= 2)
        loop.execute { loop.deregister(token.get()) }
        let settled = recorder.events.all.count
        Thread.sleep(forTimeInterval: 0.2)
        #expect(recorder.events.all.count <= settled + 2)
    }

    @Test func stoppingRunsWhatWasHandedOverFirst() {
        let loop = EventLoop(name: "test-loop")
        let ran = LockedBox(false)
        loop.execute { ran.set(true) }
        loop.stop()
        #expect(ran.get())
    }
}
