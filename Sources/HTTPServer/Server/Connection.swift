import Dispatch
import Foundation
import Logging
import Synchronization

/// What every connection of one server shares.
final class ConnectionContext: Sendable {
    let limits: HTTPLimits
    let responder: Responder
    let workers: WorkerPool
    let logger: Logger
    let closed: @Sendable (Connection) -> Void
    /// The bound on large bodies (``HTTPLimits/largeBodyRoutes``) across connections.
    let largeBodies: LargeBodyBudget
    /// The event loops connections are spread over: one per core, at least two.
    private let loops: [EventLoop]
    private let nextLoop = Atomic<Int>(0)

    init(limits: HTTPLimits, responder: Responder, workers: WorkerPool, logger: Logger, closed: @escaping @Sendable (Connection) -> Void) {
        loops = (0..<max(2, ProcessInfo.processInfo.activeProcessorCount)).map { EventLoop(name: "kairos-http-io-\($0)") }
        self.limits = limits
        self.largeBodies = LargeBodyBudget(capacity: limits.maximumLargeBodyBytesInFlight)
        self.responder = responder
        self.workers = workers
        self.logger = logger
        self.closed = closed
    }

    /// The loop for a new connection: each in turn.
    func assignLoop() -> EventLoop {
        loops[nextLoop.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Ends the loops' threads, once no connection is left on them.
    func stopLoops() {
        for loop in loops { loop.stop() }
    }
}

/// One client connection, on one ``EventLoop``: it reads when its socket is readable, writes when
/// output is pending and the socket takes it, and keeps one deadline for whichever applies. Its
/// code runs on the loop's thread, or on the worker thread that answers its request and writes
/// that answer itself, holding the connection's lock either way: one at a time. Requests are answered one at a time
/// in arrival order (pipelined ones wait in the parser's buffer); reading pauses while a
/// request is being answered, which is the backpressure on a client that sends faster than
/// it reads.
final class Connection: EventLoopClient, @unchecked Sendable {
    // @unchecked: every mutable property is touched only holding `lock`.

    private enum Phase {
        case active
        /// Our side is shut for writing after a final response; input is read and dropped until
        /// the client closes or the linger deadline passes, so a close never resets the
        /// connection before the client has read the response.
        case lingering
        case closed
    }

    private enum Deadline {
        case idle, header, body, write, linger
        /// A parked request's wait (see ``Parking``).
        case parked
    }

    /// A request its handler parked: what handles it again, and what cancels its registration.
    private struct Parked {
        let prepared: Responder.Prepared
        let parking: Parking
        let cancel: @Sendable () -> Void
        /// Which park this is, so a late wake of an earlier one does nothing.
        let generation: UInt64
    }

    private enum Unpark {
        case woken, waitOver, draining, clientLeft
        /// The client sent another request behind the parked one.
        case pipelined
    }

    /// What the client's request asked of the response: needed once the handler is done.
    private struct Answering {
        let isHead: Bool
        let version: HTTPVersion
        let keepAlive: Bool
    }

    let fd: Int32
    /// The client's address, which per-client limits count by.
    let peer: PeerAddress
    private let context: ConnectionContext
    private let loop: EventLoop
    private let lock = NSLock()
    /// The loop's name for this connection's socket, once registered.
    private var token: UInt64 = 0
    private var parser: RequestParser
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private var date = HTTPDate()

    private var phase = Phase.active
    private var isReadPaused = false
    private var isWriteArmed = false
    private var outbound: [UInt8] = []
    private var outboundOffset = 0
    private var answering: Answering?
    private var closeAfterWrite = false
    private var peerClosed = false
    private var isDraining = false
    private var deadline: Deadline?
    /// When the current deadline passes, in monotonic nanoseconds.
    private var deadlineAt: UInt64 = .max
    /// When the loop is asked to call back; moved only to fire earlier, so that a request does
    /// not add a deadline to the loop's heap every time (a call back too early sets the next).
    private var timerFiresAt: UInt64 = .max
    /// While a worker answers a request, reading stays on only to see the client hang up: the
    /// request is then cancelled. Any other byte (a pipelined request) pauses reading as before.
    private var hangUpWatch: RequestCancellation?
    /// How deep `written` → `process` → `complete` has recursed through pipelined requests.
    private var pipelineDepth = 0
    private var parked: Parked?
    private var parkGeneration: UInt64 = 0

    init(fd: Int32, peer: PeerAddress, context: ConnectionContext) {
        self.fd = fd
        self.peer = peer
        self.context = context
        loop = context.assignLoop()
        parser = RequestParser(limits: context.limits, largeBodies: context.largeBodies)
    }

    func start() {
        onLoop { [self] in
            token = loop.register(fd, self)
            // The first request's head is due from the accept, not from its first byte: a
            // connection that sends nothing is closed as soon as one that trickles.
            arm(.header)
        }
    }

    /// Server shutdown: close now when idle, else after the response under way.
    func drain() {
        onLoop { [self] in
            isDraining = true
            if let parked { return unpark(parked.generation, .draining) }
            if phase == .active && answering == nil && parser.isIdle && outbound.isEmpty { close() }
        }
    }

    /// Closes at once, whatever is under way (the shutdown grace period is over). A request
    /// still being handled is first answered 503, best effort, rather than met with silence.
    func forceClose() {
        onLoop { [self] in
            if phase == .active, answering != nil, outbound.isEmpty {
                complete(.error(.serviceUnavailable, "the service stopped before this request finished; it may or may not have taken effect"))
            }
            close()
        }
    }

    /// Runs `body` on the loop's thread, holding the lock.
    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        loop.execute { [self] in lock.withLock(body) }
    }

    // MARK: Reading

    func readable() {
        lock.withLock { readableLocked() }
    }

    private func readableLocked() {
        guard phase != .closed, !isReadPaused else { return }
        if let watch = hangUpWatch {
            // Nothing is consumed here: the bytes, if any, are the next request's.
            if Socket.peerHasHungUp(fd) {
                peerClosed = true
                watch.cancel()
            }
            hangUpWatch = nil
            pauseReading()
            // A parked request whose client hung up is dropped; one whose client sent its next
            // request is answered now (it can no longer be watched, and the next one waits).
            if let parked { unpark(parked.generation, peerClosed ? .clientLeft : .pipelined) }
            return
        }
        var received = 0
        reading: while received < 256 * 1024 {
            let result = readBuffer.withUnsafeMutableBytes { Socket.read(fd, into: $0) }
            switch result {
            case .bytes(let count):
                received += count
                if phase == .active { parser.append(readBuffer[0..<count]) }
                if count < readBuffer.count { break reading }
            case .wouldBlock:
                break reading
            case .endOfFile:
                peerClosed = true
                break reading
            case .failed:
                return close()
            }
        }
        if phase == .lingering {
            if peerClosed { close() }
            return
        }
        if peerClosed { pauseReading() }  // the end of input stays readable; stop hearing about it
        process()
    }

    /// Acts on what the parser has, until it needs more bytes or a request is being answered.
    private func process() {
        while phase == .active && answering == nil && !closeAfterWrite {
            switch parser.next() {
            case .needMoreBytes:
                if peerClosed {
                    // Nothing more will come: what is half-received can never be answered.
                    return outbound.isEmpty ? close() : (closeAfterWrite = true)
                }
                arm(parser.isIdle ? .idle : parser.isReadingBody ? .body : .header)
                resumeReading()
                return
            case .sendContinue:
                write(ResponseSerializer.continueResponse)
            case .request(let request):
                return dispatch(request)
            case .reject(let status, let reason):
                return refuse(status, reason, log: "request rejected")
            }
        }
    }

    /// Answers what never became a request (the parser's refusals, a head or body that did not
    /// arrive) and closes; it gets a request id of its own, as every answer does.
    private func refuse(_ status: HTTPStatus, _ reason: String, log message: Logger.Message) {
        let id = Responder.requestID(from: nil)
        context.logger.debug(message, metadata: ["request.id": "\(id)", "status": "\(status.code)", "reason": "\(reason)"])
        answering = Answering(isHead: false, version: .http11, keepAlive: false)
        var response = HTTPResponse.error(status, reason)
        response.headers.set("X-Request-Id", id)
        complete(response)
    }

    private func dispatch(_ request: HTTPRequest) {
        answering = Answering(
            isHead: request.method == .head, version: request.version, keepAlive: request.keepAlive)
        disarm()
        let prepared = context.responder.prepare(request)
        switch prepared.execution {
        case .inline:
            let response = prepared.run()
            if let parking = response.parking { park(prepared, parking) } else { complete(response) }
        case .worker:
            // Reading stays on to notice a hang-up; the parser holds what was already read.
            if peerClosed { request.cancellation.cancel() }
            hangUpWatch = request.cancellation
            resumeReading()
            runOnWorker(prepared, prepared.run)
        }
    }

    private func runOnWorker(_ prepared: Responder.Prepared, _ work: @escaping @Sendable () -> HTTPResponse) {
        context.workers.submit { [self] in
            // A request whose client left while it waited for a worker is not worth running.
            let response = prepared.request.cancellation.isCancelled ? nil : work()
            // Written from this thread, as soon as the loop's thread is not in the connection's
            // code, rather than handed back to a thread that must be woken and scheduled first:
            // with 8 workers busy on 2 cores that wait was GET /jobs?limit=100's p99 (12 -> 35 ms).
            lock.withLock { self.finishedOnWorker(response, prepared) }
        }
    }

    /// A worker's answer, back on the connection's loop; nil when its client had gone.
    private func finishedOnWorker(_ response: HTTPResponse?, _ prepared: Responder.Prepared) {
        guard let response else {
            hangUpWatch = nil
            pauseReading()
            return close()
        }
        if let parking = response.parking {
            // Nobody is left to wait for.
            guard !prepared.request.cancellation.isCancelled else { return close() }
            return park(prepared, parking)
        }
        hangUpWatch = nil
        pauseReading()
        complete(response)
    }

    // MARK: Parked requests

    /// Keeps the request, with no thread, until its wake, its wait's end, the client's hang-up
    /// (still watched for, as while a worker runs) or the server's drain.
    private func park(_ prepared: Responder.Prepared, _ parking: Parking) {
        guard !isDraining else {
            hangUpWatch = nil
            pauseReading()
            return complete(prepared.conclude(parking.fallback()))
        }
        parkGeneration += 1
        let generation = parkGeneration
        let cancel = parking.register { [weak self] in
            guard let self else { return }
            self.onLoop { self.unpark(generation, .woken) }
        }
        parked = Parked(prepared: prepared, parking: parking, cancel: cancel, generation: generation)
        disarm()
        arm(.parked, after: parking.wait)
        // Watched while parked, whatever watched it before (an inline route, or a watch that
        // already saw a pipelined byte: then reading sees it again and answers at once).
        hangUpWatch = prepared.request.cancellation
        resumeReading()
    }

    private func unpark(_ generation: UInt64, _ reason: Unpark) {
        guard let parked, parked.generation == generation else { return }
        self.parked = nil
        parked.cancel()
        if deadline == .parked { disarm() }
        guard phase == .active else { return }
        switch reason {
        case .clientLeft:
            close()
        case .draining, .pipelined:
            hangUpWatch = nil
            pauseReading()
            complete(parked.prepared.conclude(parked.parking.fallback()))
        case .woken, .waitOver:
            runOnWorker(parked.prepared, parked.prepared.resume)
        }
    }

    private func complete(_ response: HTTPResponse) {
        guard phase == .active, let request = answering else { return }
        parser.releaseLargeBody()
        let keepAlive = request.keepAlive && !isDraining
        closeAfterWrite = !keepAlive
        write(
            ResponseSerializer.serialize(
                response, isHead: request.isHead, version: request.version, keepAlive: keepAlive, date: &date))
    }

    // MARK: Writing

    private func write(_ bytes: [UInt8]) {
        if outbound.isEmpty {
            outbound = bytes
            outboundOffset = 0
        } else {
            outbound += bytes
        }
        flush()
    }

    /// Writes what the socket takes; the write source calls again when it can take more.
    private func flush() {
        guard phase == .active else { return }
        while outboundOffset < outbound.count {
            let result = outbound.withUnsafeBytes { bytes in
                Socket.write(fd, UnsafeRawBufferPointer(rebasing: bytes[outboundOffset...]))
            }
            switch result {
            case .wrote(let count):
                outboundOffset += count
            case .wouldBlock:
                if !isWriteArmed {
                    isWriteArmed = true
                    updateInterest()
                }
                if deadline != .write { arm(.write) }
                return
            case .failed:
                return close()
            }
        }
        outbound = []
        outboundOffset = 0
        if isWriteArmed {
            isWriteArmed = false
            updateInterest()
        }
        if deadline == .write { disarm() }
        written()
    }

    /// Output drained: after a response, close or go on with the next request.
    private func written() {
        guard answering != nil || closeAfterWrite else { return }  // a 100 Continue: keep reading the body
        answering = nil
        if closeAfterWrite { return linger() }
        // Many pipelined requests answered inline would recurse without bound; hop now and then.
        guard pipelineDepth < 16 else {
            return onLoop { [self] in
                pipelineDepth = 0
                process()
            }
        }
        pipelineDepth += 1
        process()
        pipelineDepth -= 1
    }

    private func linger() {
        phase = .lingering
        Socket.shutdownWrite(fd)
        arm(.linger)
        if peerClosed { return close() }
        resumeReading()
    }

    // MARK: Deadlines

    private func arm(_ kind: Deadline, after wait: Duration = .zero) {
        // Re-arming the same kind would let a trickling client extend its own deadline.
        guard deadline != kind else { return }
        deadline = kind
        let limits = context.limits
        let interval: Duration
        switch kind {
        case .idle: interval = limits.idleTimeout
        case .header: interval = limits.headerTimeout
        case .body: interval = limits.bodyTimeout
        case .write: interval = limits.writeTimeout
        case .linger: interval = .seconds(2)
        case .parked: interval = max(wait, .zero)
        }
        let nanoseconds = UInt64(interval.components.seconds) * 1_000_000_000 + UInt64(interval.components.attoseconds / 1_000_000_000)
        deadlineAt = DispatchTime.now().uptimeNanoseconds + nanoseconds
        if deadlineAt < timerFiresAt { setTimer(deadlineAt) }
    }

    private func disarm() {
        deadline = nil
        deadlineAt = .max
    }

    private func setTimer(_ uptimeNanoseconds: UInt64) {
        timerFiresAt = uptimeNanoseconds
        loop.schedule(token, at: uptimeNanoseconds)
    }

    func writable() {
        lock.withLock { if isWriteArmed { flush() } }
    }

    func deadlineReached(_ at: UInt64) {
        lock.withLock {
            // One the timer was moved from (earlier) is nothing now.
            guard at == timerFiresAt else { return }
            deadlinePassed()
        }
    }

    private func deadlinePassed() {
        timerFiresAt = .max
        guard phase != .closed, let kind = deadline else { return }
        // The timer may be set for a deadline since replaced by a later one.
        guard DispatchTime.now().uptimeNanoseconds >= deadlineAt else { return setTimer(deadlineAt) }
        disarm()
        switch kind {
        case .header, .body:
            guard phase == .active, answering == nil else { return close() }
            let what = kind == .header ? "the request head" : "the request body"
            let limit = kind == .header ? context.limits.headerTimeout : context.limits.bodyTimeout
            refuse(.requestTimeout, "\(what) did not arrive within \(limit)", log: "request timed out")
        case .parked:
            if let parked { unpark(parked.generation, .waitOver) }
        case .idle, .write, .linger:
            close()
        }
    }

    // MARK: Closing

    private func pauseReading() {
        guard !isReadPaused, phase != .closed else { return }
        isReadPaused = true
        updateInterest()
    }

    private func resumeReading() {
        guard isReadPaused, phase != .closed else { return }
        isReadPaused = false
        updateInterest()
    }

    private func updateInterest() {
        loop.setInterest(token, reading: !isReadPaused, writing: isWriteArmed)
    }

    private func close() {
        guard phase != .closed else { return }
        phase = .closed
        parser.releaseLargeBody()
        if let parked {
            self.parked = nil
            parked.cancel()
        }
        outbound = []
        // Out of the loop's set before the descriptor closes: its number may be reused at once.
        loop.deregister(token)
        Socket.close(fd)
        context.closed(self)
    }
}
