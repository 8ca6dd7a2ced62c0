import Chronology
import Foundation
import JSON
import Logging
import Synchronization

/// swift-log's handler for Kairos: one JSON object per line on standard error, for log
/// collectors. `time` (ISO 8601 UTC, milliseconds), `level`, `logger`, `message`, then the
/// metadata with dots in keys made underscores (`request_id`, `job_id`, ...).
///
/// ```json
/// {"time":"2026-11-27T01:02:03.456Z","level":"info","logger":"kairos","message":"ready"}
/// ```
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (String) -> Void

    /// Writes lines with `write`; by default to standard error, a whole line per call.
    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(Self.line(
            time: Timestamp(Date()), level: event.level, label: label, message: "\(event.message)",
            metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }

    /// The JSON line for one event, without its newline.
    static func line(time: Timestamp, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var object: JSONObject = [
            "time": .string(time.iso8601Milliseconds), "level": .string(level.rawValue), "logger": .string(label),
            "message": .string(message),
        ]
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            let name = key.replacingOccurrences(of: ".", with: "_")
            // The fixed fields come first and are never overwritten by metadata.
            if object.contains(key: name) { continue }
            object[name] = json(value)
        }
        return JSONValue.object(object).serialized()
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        // Numbers given as numbers stay numbers, so collectors can compare them.
        case .stringConvertible(let number as Int): return .int(Int64(number))
        case .stringConvertible(let number as Double) where number.isFinite: return .double(number)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let members):
            return .object(JSONObject(members.keys.sorted().map { ($0, json(members[$0]!)) }))
        }
    }

    // One lock, so lines from different threads never interleave.
    private static let standardErrorLock = Mutex(())

    public static let standardError: @Sendable (String) -> Void = { line in
        standardErrorLock.withLock { _ in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
