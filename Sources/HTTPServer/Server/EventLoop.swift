import CEventPoll
import Dispatch
import Foundation
import Glibc
import Locking
import Synchronization

/// What an ``EventLoop`` calls back, always on its own thread. Interest can change on another
/// thread just before a call: a client that no longer wants it ignores it.
protocol EventLoopClient: AnyObject {
    /// The descriptor is readable, at its end, or broken; it was asked for reading.
    func readable()
    /// The descriptor takes more output, or is broken; it was asked for writing.
    func writable()
    /// A deadline set with ``EventLoop/schedule(_:at:)`` for this client has come.
    func deadlineReached(_ at: UInt64)
}

/// One thread over one epoll set: it waits for its clients' descriptors and deadlines and runs
/// their callbacks, and runs work handed to it from other threads in order. A ready socket is
/// read, answered and written by the thread that saw it ready: no thread wakes another to do it.
///
/// Dispatch sources did the same with two hand-offs per event (its manager thread's epoll wakes a
/// worker thread for the queue): on 2 cores, a third of the CPU of `GET /liveness` under wrk went
/// to switching threads.
///
/// Registration, interest and deadlines may be changed from any thread (a handler's thread that
/// writes its own answer does): they are kept behind a lock, and a deadline earlier than the one
/// the loop sleeps until wakes it. Callbacks run outside that lock.
final class EventLoop: @unchecked Sendable {
    // @unchecked: `state` and `tasks` are behind their locks; `isSleeping` and `isStopped` are atomic.

    private struct Registration {
        let fd: Int32
        let client: EventLoopClient
        /// The epoll bits asked for; 0 when the descriptor is out of the set.
        var interest: UInt32
    }

    private struct State {
        var clients: [UInt64: Registration] = [:]
        var deadlines = DeadlineHeap()
        var nextToken: UInt64 = 1
        /// The deadline the loop is about to sleep until (`.max`: none); 0 while it is awake
        /// and will look at the heap again before it sleeps.
        var sleepingUntil: UInt64 = 0
    }

    private static let wakeToken: UInt64 = 0

    private let epoll: Int32
    private let wakeFD: Int32
    private let state = Locked(State())
    private let tasks = Locked<[@Sendable () -> Void]>([])
    /// True while the loop is in (or about to enter) `epoll_wait`: whoever hands it work then
    /// signals the eventfd; otherwise the loop sees the work before it waits again.
    private let isSleeping = Atomic<Bool>(false)
    private let isStopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String) {
        epoll = kairos_epoll_create()
        wakeFD = kairos_eventfd()
        precondition(epoll >= 0 && wakeFD >= 0, "epoll or eventfd unavailable: errno \(errno)")
        _ = kairos_epoll_control(epoll, 0, wakeFD, kairos_epoll_readable, Self.wakeToken)
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Runs `task` on the loop's thread, after what was handed to it before. From any thread.
    func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(task) }
        if isSleeping.exchange(false, ordering: .sequentiallyConsistent) { kairos_eventfd_signal(wakeFD) }
    }

    /// Ends the loop after the tasks handed to it so far; returns once its thread has stopped.
    /// Clients still registered are dropped without a callback (their descriptors stay open).
    func stop() {
        guard !isStopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        execute {}
        finished.wait()
        Glibc.close(epoll)
        Glibc.close(wakeFD)
    }

    /// Watches `fd` for `client`, reading wanted and writing not; returns the token that names it.
    func register(_ fd: Int32, _ client: EventLoopClient) -> UInt64 {
        let token = state.withLock { state in
            defer { state.nextToken += 1 }
            state.clients[state.nextToken] = Registration(fd: fd, client: client, interest: 0)
            return state.nextToken
        }
        setInterest(token, reading: true, writing: false)
        return token
    }

    /// What the client wants to hear of. A descriptor wanting nothing leaves the epoll set, so a
    /// hang-up (reported whatever was asked) cannot make the loop spin while its owner is busy.
    func setInterest(_ token: UInt64, reading: Bool, writing: Bool) {
        let interest = (reading ? kairos_epoll_readable : 0) | (writing ? kairos_epoll_writable : 0)
        state.withLock { state in
            guard var registration = state.clients[token], interest != registration.interest else { return }
            let operation: Int32 = registration.interest == 0 ? 0 : interest == 0 ? 2 : 1
            _ = kairos_epoll_control(epoll, operation, registration.fd, interest, token)
            registration.interest = interest
            state.clients[token] = registration
        }
    }

    /// Stops watching; the owner closes the descriptor afterwards. Its pending deadlines lapse.
    func deregister(_ token: UInt64) {
        setInterest(token, reading: false, writing: false)
        state.withLock { _ = $0.clients.removeValue(forKey: token) }
    }

    /// Calls the client's ``EventLoopClient/deadlineReached(_:)`` with `at` once the monotonic
    /// clock (`DispatchTime`'s uptime nanoseconds) has passed it.
    func schedule(_ token: UInt64, at: UInt64) {
        let wake = state.withLock { state -> Bool in
            state.deadlines.insert(.init(at: at, token: token))
            // Deadlines moved or dropped stay in the heap until due: shed them should they pile up.
            if state.deadlines.count > 4096 && state.deadlines.count > 4 * state.clients.count {
                let clients = state.clients
                state.deadlines.compact { clients[$0] != nil }
            }
            return at < state.sleepingUntil
        }
        if wake { kairos_eventfd_signal(wakeFD) }
    }

    // MARK: The loop's thread

    private func run() {
        defer { finished.signal() }
        let capacity = 256
        var tokens = [UInt64](repeating: 0, count: capacity)
        var events = [UInt32](repeating: 0, count: capacity)
        while true {
            runTasks()
            if isStopped.load(ordering: .sequentiallyConsistent) { return }
            var timeout = fireDeadlines()
            isSleeping.store(true, ordering: .sequentiallyConsistent)
            if !tasks.withLock({ $0.isEmpty }) {
                // Handed over meanwhile: look at the sockets without waiting, then run it.
                isSleeping.store(false, ordering: .sequentiallyConsistent)
                timeout = 0
            }
            let count = kairos_epoll_wait(epoll, &tokens, &events, Int32(capacity), timeout)
            isSleeping.store(false, ordering: .sequentiallyConsistent)
            state.withLock { $0.sleepingUntil = 0 }
            guard count > 0 else { continue }  // a timeout, or EINTR
            for index in 0..<Int(count) {
                deliver(events[index], to: tokens[index])
            }
        }
    }

    private func deliver(_ events: UInt32, to token: UInt64) {
        guard token != Self.wakeToken else { return kairos_eventfd_drain(wakeFD) }
        // A client closed by an earlier event of this batch is gone: its events are dropped.
        // The interest may change between this look and the call: clients check their own.
        let broken = events & kairos_epoll_broken != 0
        if let registration = state.withLock({ $0.clients[token] }), registration.interest & kairos_epoll_readable != 0,
            broken || events & kairos_epoll_readable != 0
        {
            registration.client.readable()
        }
        if let registration = state.withLock({ $0.clients[token] }), registration.interest & kairos_epoll_writable != 0,
            broken || events & kairos_epoll_writable != 0
        {
            registration.client.writable()
        }
    }

    /// Runs what was handed over until now; what those tasks hand over waits for the next turn,
    /// after the sockets have been looked at.
    private func runTasks() {
        var batch: [@Sendable () -> Void] = []
        tasks.withLock { swap(&batch, &$0) }
        for task in batch { task() }
    }

    /// Calls the clients whose deadlines have come; returns the wait, in ms, until the next one
    /// (-1: none), and notes it as the one the loop sleeps until.
    private func fireDeadlines() -> Int32 {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let due = state.withLock { state -> (EventLoopClient, UInt64)?? in
                if let entry = state.deadlines.popDue(now: now) { return state.clients[entry.token].map { ($0.client, entry.at) } }
                state.sleepingUntil = state.deadlines.earliest?.at ?? .max
                return nil
            }
            switch due {
            case .some(.some(let (client, at))): client.deadlineReached(at)
            case .some(.none): continue  // a client gone
            case .none:
                let next = state.withLock { $0.sleepingUntil }
                guard next != .max else { return -1 }
                let milliseconds = (next &- min(next, now) + 999_999) / 1_000_000
                return Int32(min(milliseconds, UInt64(Int32.max)))
            }
        }
    }
}
