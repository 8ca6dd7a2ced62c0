import Foundation

/// The real `kairos` binary, built beside the test bundle, run as a child process.
public final class KairosProcess: @unchecked Sendable {
    // @unchecked: `output` is guarded by `lock`; the rest is set once.
    public let process = Process()
    private let lock = NSLock()
    private var output = ""
    /// The pipe reached its end: everything the process printed is in `output`.
    private var drained = false
    private let pipe = Pipe()

    /// The binary that `swift build` put next to this test bundle.
    public static var binary: URL {
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return executable.deletingLastPathComponent().appendingPathComponent("kairos")
    }

    /// Starts `kairos` with `arguments`; `environment` is added to this process's own.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = pipe
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.withLock {
                if data.isEmpty { self.drained = true } else { self.output += String(decoding: data, as: UTF8.self) }
            }
        }
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        pipe.fileHandleForReading.readabilityHandler = nil
    }

    /// Everything printed so far (logs go to stderr).
    public var log: String { lock.withLock { output } }

    /// Waits for the "listening" log line and returns the port it names.
    public func waitForPort(timeout: Double = 30) -> Int? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            if let port = Self.port(in: log) { return port }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return Self.port(in: log)
    }

    /// Waits for a log line ending in `message` ("ready") and returns it.
    public func waitForLine(_ message: String, timeout: Double = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let line = log.split(separator: "\n").first(where: { $0.hasSuffix(" " + message) }) { return String(line) }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < deadline && process.isRunning
        return nil
    }

    private static func port(in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.hasSuffix("listening") {
            if let range = line.range(of: "port="), let port = Int(line[range.upperBound...].prefix { $0.isNumber }) { return port }
        }
        return nil
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status, nil on timeout.
    public func terminate(timeout: Double = 15) -> Int32? {
        process.terminate()
        return waitForExit(timeout: timeout)
    }

    /// Waits for the exit and for the last of its output; returns the exit status, nil on timeout.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while (process.isRunning || !lock.withLock({ drained })) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return process.isRunning ? nil : process.terminationStatus
    }
}
