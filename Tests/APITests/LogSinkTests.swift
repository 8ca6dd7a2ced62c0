@testable import API
import Chronology
import Foundation
import Glibc
import HTTPServer
import JSON
import Logging
import TestSupport
import Testing

@Suite struct LogBufferTests {
    @Test func aLineFitsWithItsNewlineUpToTheCapacityExactly() {
        var buffer = LogBuffer(capacity: 10)
        let fitted = buffer.append(Array("123456789".utf8))  // 9 bytes + newline = 10
        #expect(fitted)
        #expect(buffer.bytes.count == 10)
        let oneMore = buffer.append([UInt8(ascii: "x")])  // nothing left, not even for one byte
        #expect(!oneMore)
        #expect(buffer.droppedLines == 1 && buffer.acceptedLines == 1)

        var other = LogBuffer(capacity: 10)
        let tooLong = other.append(Array("1234567890".utf8))  // 10 bytes + newline = 11
        #expect(!tooLong)
        #expect(other.isEmpty && other.droppedLines == 1)
    }

    @Test func movingOutEmptiesTheBufferAndReusesTheBatch() {
        var buffer = LogBuffer(capacity: 100)
        buffer.append(Array("one".utf8))
        buffer.append(Array("two".utf8))
        var batch: [UInt8] = Array("stale".utf8)
        buffer.moveAll(into: &batch)
        #expect(String(decoding: batch, as: UTF8.self) == "one\ntwo\n")
        #expect(buffer.isEmpty)
        // Room again for a full buffer's worth.
        let refilled = buffer.append(Array(repeating: UInt8(ascii: "a"), count: 99))
        #expect(refilled)
        #expect(buffer.acceptedLines == 3 && buffer.droppedLines == 0)
    }
}

@Suite struct LogSinkTests {
    /// A pipe: the sink writes to `write`, the test reads `read`.
    private func pipePair() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TestDatabaseError("pipe failed: errno \(errno)") }
        return (fds[0], fds[1])
    }

    /// Everything readable from `fd` until `deadline` passes with nothing more, split in lines.
    private func readLines(_ fd: Int32, quietFor quiet: Double = 0.2) -> [String] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(quiet * 1000)) > 0 else { break }
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test func linesArriveWholeAndInOrderOnceFlushed() throws {
        let (readEnd, writeEnd) = try pipePair()
        defer { close(readEnd); close(writeEnd) }
        let sink = LogSink(fileDescriptor: writeEnd)
        let threads = 4, perThread = 500
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread { sink.write(Array("t\(thread) \(index)".utf8)) }
        }
        #expect(sink.flush())
        let lines = readLines(readEnd)
        #expect(lines.count == threads * perThread)
        #expect(sink.droppedLines == 0)
        // Each thread's lines in the order it wrote them, none torn.
        for thread in 0..<threads {
            let own = lines.filter { $0.hasPrefix("t\(thread) ") }
            #expect(own == (0..<perThread).map { "t\(thread) \($0)" })
        }
    }

    @Test func aStalledDestinationDropsAndCountsLinesInsteadOfBlocking() async throws {
        let (readEnd, writeEnd) = try pipePair()
        defer { close(readEnd); close(writeEnd) }
        // Nobody reads the pipe (64 KiB in the kernel) while 20,000 lines of 100 bytes are logged
        // into a 16 KiB buffer: the writer blocks in write(2), the callers must not.
        let sink = LogSink(fileDescriptor: writeEnd, capacity: 16 * 1024)
        let line = Array(repeating: UInt8(ascii: "x"), count: 99)
        let started = ContinuousClock.now
        for _ in 0..<20_000 { sink.write(line) }
        #expect(ContinuousClock.now - started < .seconds(2), "logging waited for the stalled destination")
        let dropped = sink.droppedLines
        #expect(dropped > 10_000)
        // Once the destination drains, every line is either there, whole, or counted as dropped,
        // and a line says how many were lost.
        let reader = Task.detached { [self] in readLines(readEnd, quietFor: 1) }
        #expect(sink.flush(timeout: .seconds(10)))
        let lines = await reader.value
        let notices = lines.filter { $0.contains("log lines dropped") }
        let kept = lines.filter { $0 == String(decoding: line, as: UTF8.self) }
        #expect(kept.count + dropped == 20_000)
        #expect(kept.count + notices.count == lines.count)
        let reported = try notices.map { try #require(JSONValue(parsing: Array($0.utf8))["dropped"]?.intValue) }.reduce(0, +)
        #expect(reported == Int64(dropped))
    }
}

@Suite struct AccessLogTests {
    @Test func theFastLineIsTheLineSwiftLogWouldHaveWritten() throws {
        let time = CivilTime(year: 2026, month: 12, day: 3, hour: 9, minute: 5, second: 7, microsecond: 89_000)!.timestamp
        for entry in [
            AccessLogEntry(requestID: "r-1", method: "GET", path: "/api/v1/jobs", status: 200, latencyMicroseconds: 412),
            AccessLogEntry(requestID: "x\"y", method: "POST", path: "/a\\b\n\u{1}é", status: 404, latencyMicroseconds: 12_345_678),
            AccessLogEntry(requestID: "", method: "DELETE", path: "/", status: 500, latencyMicroseconds: 1000),
        ] {
            let fast = try JSONValue(parsing: LogLine.access(entry, time: time, label: "kairos", metadata: [:]))
            let general = try JSONValue(parsing: LogLine.format(time: time, level: .info, label: "kairos", message: entry.message, metadata: [:], eventMetadata: entry.metadata))
            #expect(fast == general)
            #expect(fast["time"] == "2026-12-03T09:05:07.089Z")
            #expect(fast["message"] == .string("\(entry.method) \(entry.path) \(entry.status)"))
        }
    }

    @Test func eachAnsweredRequestLogsOneLineOverARealSocket() throws {
        let lines = LockedBox<[String]>([])
        let logger = Logger(label: "kairos") { label in JSONLogHandler(label: label, level: .info) { line in lines.update { $0.append(line) } } }
        var router = Router()
        router.add(.get, "/hello") { _ in .json(["hello": "world"]) }
        let server = HTTPServer(.init(host: "127.0.0.1", port: 0), router: router, middleware: KairosAPI.middleware(logger: logger), logger: logger)
        try server.start()
        defer { server.shutdown(gracePeriod: .seconds(2)) }
        let connection = try RawHTTPConnection(port: server.port!)
        #expect(try connection.get("/hello").status == 200)
        #expect(try connection.get("/nowhere?x=1").status == 404)
        let access = try lines.get().map { try JSONValue(parsing: Array($0.utf8)) }.filter { $0["status"] != nil }
        #expect(access.count == 2)
        #expect(access.map { $0["message"] } == ["GET /hello 200", "GET /nowhere 404"])
        #expect(access.allSatisfy { $0["level"] == "info" && $0["method"] == "GET" && !($0["request_id"]?.stringValue ?? "").isEmpty })
        #expect(access.allSatisfy { ($0["latency_ms"]?.doubleValue ?? -1) >= 0 })
    }

    @Test func aHandlerAboveInfoWritesNoAccessLines() throws {
        let lines = LockedBox<[String]>([])
        let handler = JSONLogHandler(label: "kairos", level: .warning) { line in lines.update { $0.append(line) } }
        handler.logAccess(AccessLogEntry(requestID: "r", method: "GET", path: "/", status: 200, latencyMicroseconds: 1))
        #expect(lines.get().isEmpty)
    }
}
