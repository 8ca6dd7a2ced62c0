import Foundation

/// A fixed number of threads running submitted work in order of submission: where handlers run,
/// apart from socket I/O, so a handler blocked on PostgreSQL stalls only its own request.
final class WorkerPool: @unchecked Sendable {
    // @unchecked: `queue`, `isStopped` and `busy` are guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var isStopped = false
    private var busy = 0
    private var threads: [Thread] = []

    let threadCount: Int

    init(threads count: Int, name: String) {
        precondition(count > 0, "a worker pool needs a thread")
        threadCount = count
        for index in 0..<count {
            // Each thread keeps the pool alive until stop() lets it end.
            let thread = Thread { self.run() }
            thread.name = "\(name)-\(index)"
            // Deeply nested (but accepted) documents are parsed, compiled and freed recursively:
            // 8 MiB of address space, of which only what a request touches becomes memory.
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.withLock {
            queue.append(work)
            condition.signal()
        }
    }

    /// Work waiting for a thread, and threads at work.
    var load: (queued: Int, busy: Int) {
        condition.withLock { (queue.count - head, busy) }
    }

    /// Lets queued work finish, then ends the threads.
    func stop() {
        condition.withLock {
            isStopped = true
            condition.broadcast()
        }
    }

    private func run() {
        while let work = nextWork() {
            work()
            condition.withLock { busy -= 1 }
        }
    }

    private func nextWork() -> (@Sendable () -> Void)? {
        condition.withLock {
            while head == queue.count {
                if isStopped { return nil }
                condition.wait()
            }
            let work = queue[head]
            head += 1
            // Compact now and then so the array does not grow forever.
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            busy += 1
            return work
        }
    }
}
