import Foundation
import Glibc

/// A program run by a test, started with `posix_spawn`, its standard output and error read into
/// one log as they arrive.
///
/// Not Foundation's `Process`: on Linux its `run()` copies a whole 256-byte `d_name` out of each
/// `dirent` while listing /proc/self/fd, reading past glibc's buffer, and now and then crashes
/// the test process (seen here with Swift 6.3.1: SIGSEGV in memcpy under `Process.run()`; fixed
/// upstream in swift-corelibs-foundation PR #5472).
///
/// ```swift
/// let child = try ChildProcess("/usr/bin/curl", ["-sS", "http://127.0.0.1:34000/api/v1/liveness"])
/// #expect(child.waitForExit(timeout: 10) == 0)
/// print(child.output)
/// ```
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// What the child printed, and whether its output has reached its end. The reader thread
    /// holds only this, so a child still running when its test lets go of it is killed in deinit.
    private let printed = LockedBox(Printed())
    /// The raw wait status once reaped; `lost` when the child could not be waited for.
    private let reaped = LockedBox(Reaped.running)

    private struct Printed {
        var bytes: [UInt8] = []
        var drained = false
    }

    private enum Reaped {
        case running
        case exited(Int32)
        case lost
    }

    /// Starts `executable` (a path) with `arguments` and exactly `environment`. Standard input is
    /// /dev/null; every other descriptor this process has open stays here, so a child never holds
    /// a test's listening socket open.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw TestDatabaseError("pipe failed: errno \(errno)") }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        // Kept from other children (pipe2 with O_CLOEXEC is not imported into Swift; every child
        // started here closes what it inherits anyway).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let prepared = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) == 0
            && posix_spawn_file_actions_adddup2(&actions, writeEnd, 1) == 0
            && posix_spawn_file_actions_adddup2(&actions, writeEnd, 2) == 0
            && Self.addCloseFrom(3, to: &actions) == 0
        guard prepared else {
            close(readEnd)
            close(writeEnd)
            throw TestDatabaseError("cannot prepare the child's descriptors for \(executable)")
        }

        // The child starts with no signal blocked and every signal at its default, whatever the
        // spawning thread had: kairos must hear its SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var child: pid_t = 0
        let argv = CStringArray([executable] + arguments)
        let envp = CStringArray(environment.map { "\($0.key)=\($0.value)" })
        let result = posix_spawn(&child, executable, &actions, &attributes, argv.pointers, envp.pointers)
        close(writeEnd)
        guard result == 0 else {
            close(readEnd)
            throw TestDatabaseError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child

        let printed = printed
        let reader = Thread { Self.read(readEnd, into: printed) }
        reader.name = "test.child.\(child).output"
        reader.start()
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            var ignored: Int32 = 0
            _ = waitpid(pid, &ignored, 0)
        }
    }

    /// What the child has printed so far, on either stream.
    public var output: String { String(decoding: printed.get().bytes, as: UTF8.self) }

    /// Whether the child has not exited yet; reaps it when it has.
    public var isRunning: Bool {
        reaped.update { reaped in
            guard case .running = reaped else { return false }
            var raw: Int32 = 0
            switch waitpid(pid, &raw, WNOHANG) {
            case pid: reaped = .exited(raw)
            case -1 where errno != EINTR: reaped = .lost  // not ours to wait for any more
            default: return true
            }
            return false
        }
    }

    /// The exit code, or 128 + the signal's number when a signal ended it (as a shell reports
    /// it); nil while it runs, or when it could not be waited for.
    public var exitStatus: Int32? {
        guard !isRunning, case .exited(let raw) = reaped.get() else { return nil }
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// Sends `signal` (SIGTERM unless said otherwise).
    public func send(_ signal: Int32 = SIGTERM) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits, for at most `timeout` seconds of running time, for the exit and for the last of the
    /// output; returns ``exitStatus``, nil on timeout.
    public func waitForExit(timeout: Double) -> Int32? {
        let stopwatch = Stopwatch()
        while (isRunning || !printed.get().drained) && stopwatch.elapsed < timeout {
            Thread.sleep(forTimeInterval: 0.02)
        }
        return printed.get().drained ? exitStatus : nil
    }

    private static func read(_ fd: Int32, into printed: LockedBox<Printed>) {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            printed.update { $0.bytes += chunk[..<count] }
        }
        close(fd)
        printed.update { $0.drained = true }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not import: looked up once by name.
    private static func addCloseFrom(_ lowest: Int32, to actions: inout posix_spawn_file_actions_t) -> Int32 {
        guard let closeFrom else { return -1 }
        return closeFrom(&actions, lowest)
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()
}

/// A NULL-terminated array of C strings that lives as long as this value.
private final class CStringArray {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    deinit {
        for pointer in pointers { free(pointer) }
    }
}
