import Glibc

/// Waits for a socket to become readable or writable, but never past a deadline: how every
/// exchange with the server is bounded, so that a server that stopped answering (a network
/// partition drops packets without a reset) costs a known time instead of TCP's minutes.
enum SocketWait {
    enum Outcome: Equatable {
        case ready(readable: Bool, writable: Bool)
        case timedOut
        /// `poll` itself failed (a closed descriptor); the caller treats the connection as lost.
        case failed(errno: Int32)
    }

    /// - Parameter deadline: nil waits as long as it takes.
    static func wait(
        socket: Int32, readable: Bool, writable: Bool, until deadline: ContinuousClock.Instant?
    ) -> Outcome {
        var events: Int16 = 0
        if readable { events |= Int16(POLLIN) }
        if writable { events |= Int16(POLLOUT) }
        while true {
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let timeout = deadline.map(Self.milliseconds(until:)) ?? -1
            if let deadline, timeout == 0, ContinuousClock.now >= deadline { return .timedOut }
            let count = poll(&descriptor, 1, timeout)
            if count < 0 {
                if errno == EINTR { continue }
                return .failed(errno: errno)
            }
            if count == 0 {
                // poll can wake a millisecond early; only the clock says the time is up.
                if let deadline, ContinuousClock.now >= deadline { return .timedOut }
                continue
            }
            // A hang-up or error counts as readable: the read that follows reports what happened.
            let trouble = descriptor.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
            return .ready(
                readable: descriptor.revents & Int16(POLLIN) != 0 || trouble,
                writable: descriptor.revents & Int16(POLLOUT) != 0)
        }
    }

    /// Milliseconds from now to `deadline`, rounded up so a wait never ends before it; 0 once passed.
    static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}
