import Chronology
import Foundation
import JSON
import Logging
import YAML

/// Loads every `*.yaml` (and `*.yml`) file of the default-jobs directory at boot, one job per
/// file, and registers them all (``JobStore/registerDefaults(_:now:)``). A broken file is
/// reported with its name and line and does not stop the others.
public struct DefaultJobLoader: Sendable {
    public let store: JobStore
    public let handlers: HandlerRegistry

    public init(store: JobStore, handlers: HandlerRegistry = .standard) {
        self.store = store
        self.handlers = handlers
    }

    /// What happened to each file, in file-name order.
    public struct Outcome: Sendable, Equatable {
        public var file: String
        public var jobID: String?
        public var registration: JobStore.Registration?
        /// Why the file was not loaded, compiler-style: `default_jobs/x.yaml:3: 'periodically': ...`.
        public var error: String?
    }

    /// A missing directory is no error: there are simply no default jobs.
    public func load(directory: String, now: Timestamp, logger: Logger) -> [Outcome] {
        var outcomes: [Outcome] = []
        var definitions: [(index: Int, definition: JobDefinition)] = []
        var fileOfID: [String: String] = [:]
        for path in Self.jobFiles(in: directory) {
            var outcome = Outcome(file: path)
            do {
                let definition = try definition(in: path, now: now)
                outcome.jobID = definition.id
                if let first = fileOfID[definition.id] {
                    outcome.error = "\(path): job_id \"\(definition.id)\" is already defined in \(first)"
                } else {
                    fileOfID[definition.id] = path
                    definitions.append((outcomes.count, definition))
                }
            } catch let error as YAMLError {
                outcome.error = "\(error)"
            } catch {
                outcome.error = Self.located(error, in: path)
            }
            outcomes.append(outcome)
        }
        let results = store.registerDefaults(definitions.map(\.definition), now: now)
        for ((index, _), result) in zip(definitions, results) {
            switch result {
            case .success(let registration): outcomes[index].registration = registration
            case .failure(let error): outcomes[index].error = Self.located(error, in: outcomes[index].file)
            }
        }
        for outcome in outcomes {
            if let error = outcome.error {
                logger.error("default job not loaded", metadata: ["file": "\(outcome.file)", "error": "\(error)"])
            } else {
                logger.debug(
                    "default job loaded",
                    metadata: ["file": "\(outcome.file)", "job.id": "\(outcome.jobID ?? "")", "registration": "\(outcome.registration!.rawValue)"])
            }
        }
        return outcomes
    }

    static func jobFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
            .map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 }
    }

    private func definition(in path: String, now: Timestamp) throws -> JobDefinition {
        let document = try YAML.parse(contentsOf: path)
        guard let object = document.objectValue else {
            throw JobDefinitionError("expected a mapping with at least job_id and handler, found \(document.kindDescription)")
        }
        guard object["job_id"]?.stringValue != nil else { throw JobDefinitionError("'job_id' is required in a default job file") }
        return try JobDefinition.parse(object, handlers: handlers, now: now, kwargsAtTopLevel: true)
    }

    /// `path:line: message`, the line being that of the key the message names, if any.
    static func located(_ error: any Error, in path: String) -> String {
        let message = "\(error)"
        return "\(path):\(line(of: message, in: path).map { "\($0):" } ?? "") \(message)"
    }

    /// The line of the key a definition error names (`'periodically': ...`), so the report points
    /// into the file the way a YAML syntax error does.
    static func line(of message: String, in path: String) -> Int? {
        guard message.hasPrefix("'"), let end = message.dropFirst().firstIndex(of: "'"),
            let text = try? String(contentsOfFile: path, encoding: .utf8)
        else { return nil }
        let key = message[message.index(after: message.startIndex)..<end]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("\(key):") || trimmed.hasPrefix("\"\(key)\":") { return index + 1 }
        }
        return nil
    }
}
