import Foundation
import Glibc

/// The real `kairos` binary, built beside the test bundle, run as a child process.
public final class KairosProcess: Sendable {
    private let child: ChildProcess

    /// The binary that `swift build` put next to this test bundle.
    public static var binary: URL {
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return executable.deletingLastPathComponent().appendingPathComponent("kairos")
    }

    /// Settings every test's process gets unless the test sets its own. An API call's database
    /// bound (1 s by default, opening a connection included) is for a machine that is not running
    /// a whole test suite on two cores, where opening one has taken seconds; the partition test
    /// checks the default, on a quiet machine.
    static let testDefaults = ["KAIROS_DATABASE_TIMEOUT": "10s"]

    /// Starts `kairos` with `arguments`; `environment` is added to this process's own.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let settings = Self.testDefaults.merging(environment) { $1 }
        child = try ChildProcess(
            Self.binary.path, arguments, environment: ProcessInfo.processInfo.environment.merging(settings) { $1 })
    }

    public var pid: pid_t { child.pid }

    /// The most resident memory the process has used so far (`VmHWM`), in bytes.
    public var peakResidentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// Everything printed so far (logs go to stderr).
    public var log: String { child.output }

    /// Waits for the "listening" log line and returns the port it names.
    public func waitForPort(timeout: Double = 30) -> Int? {
        let stopwatch = Stopwatch()
        while stopwatch.elapsed < timeout && child.isRunning {
            if let port = port { return port }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return port
    }

    /// Waits for a log line whose message is `message` ("ready") and returns it.
    public func waitForLine(_ message: String, timeout: Double = 30) -> [String: Any]? {
        let stopwatch = Stopwatch()
        repeat {
            if let line = logLines.first(where: { $0["message"] as? String == message }) { return line }
            Thread.sleep(forTimeInterval: 0.02)
        } while stopwatch.elapsed < timeout && child.isRunning
        return nil
    }

    /// The log lines so far that are JSON objects, as the service writes them.
    public var logLines: [[String: Any]] {
        log.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    private var port: Int? {
        guard let line = logLines.first(where: { $0["message"] as? String == "listening" }) else { return nil }
        return (line["port"] as? String).flatMap(Int.init)
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status, nil on timeout.
    public func terminate(timeout: Double = 15) -> Int32? {
        child.send(SIGTERM)
        return waitForExit(timeout: timeout)
    }

    /// Waits for the exit and for the last of its output; returns the exit status, nil on timeout.
    public func waitForExit(timeout: Double) -> Int32? {
        child.waitForExit(timeout: timeout)
    }
}
