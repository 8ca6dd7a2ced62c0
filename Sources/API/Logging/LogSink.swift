import Chronology
import Foundation
import Locking

/// Where log lines go: a file descriptor (standard error by default), written by one thread of
/// its own in batches. A caller only copies its line into a bounded ``LogBuffer`` under a lock,
/// with no system call; the writer wakes when lines arrive after a quiet spell, then gathers
/// what arrives for ``batchWindow`` before each write. When the descriptor stalls (a full pipe,
/// a stuck disk) the buffer fills and further lines are dropped and counted
/// (``droppedLines``, the metric `kairos_log_lines_dropped_total`), and once it drains again a
/// line says how many were lost. Requests never wait for the log.
///
/// Lines still buffered when the process ends are lost unless ``flush(timeout:)`` ran: the
/// service flushes on its way out, and a crash loses at most one batch window of lines.
public final class LogSink: Sendable {
    /// Standard error, with the default capacity. The service's logger writes here.
    public static let standardError = LogSink(fileDescriptor: STDERR_FILENO)

    /// The default bound on bytes waiting to be written: a quarter of a second of access-log
    /// lines at 20,000 requests a second, and about a megabyte of memory at most.
    public static let defaultCapacity = 1 << 20

    /// How long the writer gathers lines before each write while lines keep coming.
    public let batchWindow: Duration

    private struct State {
        var buffer: LogBuffer
        /// The writer is asleep until signalled (it found nothing to write).
        var writerIdle = false
        var writerStarted = false
        /// Bytes the writer has finished with: written, or lost to a write error.
        var linesDone = 0
        var flushRequested = false
        /// Dropped lines already reported in a line of their own.
        var droppedReported = 0
    }

    private let fileDescriptor: Int32
    private let state: Locked<State>
    // The writer waits on this; Locked has no condition variable.
    private let condition = NSCondition()

    public init(fileDescriptor: Int32, capacity: Int = LogSink.defaultCapacity, batchWindow: Duration = .milliseconds(5)) {
        self.fileDescriptor = fileDescriptor
        self.batchWindow = batchWindow
        self.state = Locked(State(buffer: LogBuffer(capacity: capacity)))
    }

    /// Lines dropped because the buffer was full, since the sink was made.
    public var droppedLines: Int { state.withLock { $0.buffer.droppedLines } }

    /// Queues `line` (without its newline) to be written; drops it if the buffer is full.
    public func write(_ line: some Collection<UInt8>) {
        let (wake, start) = state.withLock { state -> (Bool, Bool) in
            state.buffer.append(line)
            let start = !state.writerStarted
            state.writerStarted = true
            let wake = state.writerIdle
            if wake { state.writerIdle = false }
            return (wake, start)
        }
        if start { startWriter() }
        if wake { signal() }
    }

    /// Waits until every line queued before the call has been written, or `timeout` passed (a
    /// stalled descriptor must not hold up shutdown). Returns whether everything was written.
    @discardableResult
    public func flush(timeout: Duration = .seconds(1)) -> Bool {
        let target = state.withLock { state -> Int? in
            guard state.writerStarted else { return nil }
            state.flushRequested = true
            state.writerIdle = false
            return state.buffer.acceptedLines
        }
        guard let target else { return true }
        let deadline = ContinuousClock.now + timeout
        signal()
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.linesDone >= target }) { return true }
            condition.lock()
            _ = condition.wait(until: Date().addingTimeInterval(0.002))
            condition.unlock()
        }
        return state.withLock { $0.linesDone >= target }
    }

    private func signal() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    private func startWriter() {
        let thread = Thread { [self] in writeForever() }
        thread.name = "kairos-log-writer"
        thread.start()
    }

    private func writeForever() {
        var batch: [UInt8] = []
        while true {
            var lines = 0
            var dropped = 0
            var hurry = false
            state.withLock { state in
                lines = state.buffer.acceptedLines - state.linesDone
                state.buffer.moveAll(into: &batch)
                if lines == 0 && !state.flushRequested { state.writerIdle = true }
                hurry = state.flushRequested
                state.flushRequested = false
                dropped = state.buffer.droppedLines - state.droppedReported
            }
            if lines == 0 && !hurry {
                // Nothing to do: sleep until a line arrives (write() signals an idle writer).
                condition.lock()
                while state.withLock({ $0.writerIdle }) { condition.wait() }
                condition.unlock()
                continue
            }
            writeAll(batch)
            if dropped > 0 {
                writeAll(LogLine.droppedNotice(count: dropped) + [0x0A])
                state.withLock { $0.droppedReported += dropped }
            }
            state.withLock { $0.linesDone += lines }
            signal()
            if !hurry { Thread.sleep(forTimeInterval: batchWindow.timeInterval) }
        }
    }

    /// Writes every byte, retrying short writes and interruptions; gives up on other errors (a
    /// closed descriptor), as there is nowhere to report them.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
