import Chronology
import Foundation
import HTTPServer
import JSON
import Logging

/// One log event as one JSON line (no newline), written straight into bytes: `time` (ISO 8601
/// UTC, milliseconds), `level`, `logger`, `message`, then the metadata sorted by key, dots in
/// keys made underscores (`request_id`, `job_id`, ...). The fixed fields are never overwritten
/// by metadata, and of two keys that read the same (`job.id`, `job_id`) the first in order wins.
///
/// ```json
/// {"time":"2026-11-27T01:02:03.456Z","level":"info","logger":"kairos","message":"ready"}
/// ```
///
/// It runs on the thread that logs, once per request for the access log, so it builds no
/// intermediate JSON value and none of Foundation's string searching.
enum LogLine {
    static let fixedNames: Set<String> = ["time", "level", "logger", "message"]

    static func format(
        time: Timestamp, level: Logger.Level, label: String, message: String,
        metadata: Logger.Metadata, eventMetadata: Logger.Metadata? = nil
    ) -> [UInt8] {
        var writer = head(time: time, level: level, label: label)
        writer.writeString(message)
        var written: [String] = []
        for (key, value) in merged(metadata, eventMetadata) {
            let name = key.utf8.contains(UInt8(ascii: ".")) ? String(decoding: key.utf8.map { $0 == UInt8(ascii: ".") ? UInt8(ascii: "_") : $0 }, as: UTF8.self) : key
            guard !fixedNames.contains(name), !written.contains(name) else { continue }
            written.append(name)
            writer.writeRaw(",")
            writer.writeString(name)
            writer.writeRaw(":")
            write(value, into: &writer)
        }
        writer.writeRaw("}")
        return writer.output
    }

    /// An access-log line, the same as ``format(time:level:label:message:metadata:eventMetadata:)``
    /// writes for the entry's message and metadata, but spelled field by field: it runs once per
    /// request. A handler with metadata of its own takes the general path.
    static func access(_ entry: AccessLogEntry, time: Timestamp, label: String, metadata: Logger.Metadata) -> [UInt8] {
        guard metadata.isEmpty else {
            return format(time: time, level: .info, label: label, message: entry.message, metadata: metadata, eventMetadata: entry.metadata)
        }
        var writer = head(time: time, level: .info, label: label)
        writer.writeRaw("\"")
        writer.writeStringContents(entry.method)
        writer.writeRaw(" ")
        writer.writeStringContents(entry.path)
        writer.writeRaw(" ")
        writer.writeRaw(String(entry.status))
        // The metadata's keys in order: latency_ms, method, path, request_id, status.
        writer.writeRaw("\",\"latency_ms\":")
        writeMilliseconds(entry.latencyMicroseconds, into: &writer)
        writer.writeRaw(",\"method\":")
        writer.writeString(entry.method)
        writer.writeRaw(",\"path\":")
        writer.writeString(entry.path)
        writer.writeRaw(",\"request_id\":")
        writer.writeString(entry.requestID)
        writer.writeRaw(",\"status\":")
        writer.writeRaw(String(entry.status))
        writer.writeRaw("}")
        return writer.output
    }

    /// `{"time":"…","level":"…","logger":"…","message":`, the message's value left to the caller.
    private static func head(time: Timestamp, level: Logger.Level, label: String) -> JSONWriter {
        var writer = JSONWriter(reservingCapacity: 256)
        writer.writeRaw("{\"time\":\"")
        writeTime(time, into: &writer)
        writer.writeRaw("\",\"level\":\"")
        writer.writeRaw(level.rawValue)
        writer.writeRaw("\",\"logger\":")
        writer.writeString(label)
        writer.writeRaw(",\"message\":")
        return writer
    }

    /// Microseconds as milliseconds with three decimals: `12.345`.
    private static func writeMilliseconds(_ microseconds: Int64, into writer: inout JSONWriter) {
        let value = max(0, microseconds)
        writer.writeRaw(String(value / 1000))
        let fraction = Int(value % 1000)
        writer.output.append(UInt8(ascii: "."))
        writer.output.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        writer.output.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        writer.output.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// The line the sink writes after it had to drop lines.
    static func droppedNotice(count: Int, time: Timestamp = Timestamp(Date())) -> [UInt8] {
        format(
            time: time, level: .warning, label: "kairos.log",
            message: "log lines dropped: the log's destination was slower than the service",
            metadata: ["dropped": .stringConvertible(count)])
    }

    /// The handler's metadata and the event's, the event's winning, sorted by key.
    private static func merged(_ handler: Logger.Metadata, _ event: Logger.Metadata?) -> [(key: String, value: Logger.Metadata.Value)] {
        guard let event, !event.isEmpty else { return handler.sorted { $0.key < $1.key } }
        guard !handler.isEmpty else { return event.sorted { $0.key < $1.key } }
        return handler.merging(event) { $1 }.sorted { $0.key < $1.key }
    }

    private static func write(_ value: Logger.Metadata.Value, into writer: inout JSONWriter) {
        switch value {
        case .string(let text): writer.writeString(text)
        // Numbers given as numbers stay numbers, so collectors can compare them.
        case .stringConvertible(let number as Int): writer.writeRaw(String(number))
        case .stringConvertible(let number as Double) where number.isFinite: writer.write(.double(number))
        case .stringConvertible(let convertible): writer.writeString(convertible.description)
        case .array, .dictionary: writer.write(json(value))
        }
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let number as Int): return .int(Int64(number))
        case .stringConvertible(let number as Double) where number.isFinite: return .double(number)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let members):
            return .object(JSONObject(members.keys.sorted().map { ($0, json(members[$0]!)) }))
        }
    }

    /// `2026-11-27T01:02:03.456Z`, digit by digit.
    private static func writeTime(_ time: Timestamp, into writer: inout JSONWriter) {
        let civil = CivilTime(time)
        guard (0...9999).contains(civil.year) else { return writer.writeRaw(time.iso8601Milliseconds) }
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                writer.output.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(civil.year, 4)
        writer.output.append(UInt8(ascii: "-"))
        digits(civil.month, 2)
        writer.output.append(UInt8(ascii: "-"))
        digits(civil.day, 2)
        writer.output.append(UInt8(ascii: "T"))
        digits(civil.hour, 2)
        writer.output.append(UInt8(ascii: ":"))
        digits(civil.minute, 2)
        writer.output.append(UInt8(ascii: ":"))
        digits(civil.second, 2)
        writer.output.append(UInt8(ascii: "."))
        digits(civil.microsecond / 1000, 3)
        writer.output.append(UInt8(ascii: "Z"))
    }
}
