import Chronology
import Foundation
import HTTPServer
import Logging

/// swift-log's handler for Kairos: one JSON object per line (see ``LogLine``), for log
/// collectors, handed to a ``LogSink`` that writes them off the caller's thread in batches.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let output: Output

    private enum Output: Sendable {
        case sink(LogSink)
        case lines(@Sendable (String) -> Void)
    }

    /// Writes lines to `sink`: by default standard error.
    public init(label: String, level: Logger.Level = .info, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.output = .sink(sink)
    }

    /// Hands each line, without its newline, to `write` on the logging thread: for tests and
    /// for embedding.
    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = level
        self.output = .lines(write)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `entry`'s access-log line if this handler logs at `info`: the same line
    /// ``Middlewares/accessLog(_:)-(Logger)`` would give, for less.
    public func logAccess(_ entry: AccessLogEntry) {
        guard logLevel <= .info else { return }
        emit(LogLine.access(entry, time: Timestamp(Date()), label: label, metadata: metadata))
    }

    public func log(event: LogEvent) {
        emit(LogLine.format(
            time: Timestamp(Date()), level: event.level, label: label, message: "\(event.message)",
            metadata: metadata, eventMetadata: event.metadata))
    }

    private func emit(_ line: [UInt8]) {
        switch output {
        case .sink(let sink): sink.write(line)
        case .lines(let write): write(String(decoding: line, as: UTF8.self))
        }
    }
}
