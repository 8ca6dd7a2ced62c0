import Foundation
import JSON
import Logging
import YAML

/// Loads every file of the default-jobs directory whose name ends in `.yaml` or `.yml`, in any
/// case (`Nightly.YAML`), and does not start with a dot, at boot, one job per file, in
/// file-name order, and registers them all (``JobStore/registerDefaults(_:)``). A broken file is reported
/// with its name and the line at fault, from libyaml's marks, and does not stop the others.
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
    public func load(directory: String, logger: Logger) -> [Outcome] {
        var outcomes: [Outcome] = []
        var documents: [Int: YAMLDocument] = [:]
        var definitions: [(index: Int, definition: JobDefinition)] = []
        var fileOfID: [String: String] = [:]
        for path in Self.jobFiles(in: directory) {
            var outcome = Outcome(file: path)
            do {
                let document = try YAML.document(contentsOf: path)
                documents[outcomes.count] = document
                let definition = try definition(in: document)
                outcome.jobID = definition.id
                if let first = fileOfID[definition.id] {
                    outcome.error = "\(Self.location(path, document, [.key("job_id")])) job_id \"\(definition.id)\" is already defined in \(first)"
                } else {
                    fileOfID[definition.id] = path
                    definitions.append((outcomes.count, definition))
                }
            } catch let error as YAMLError {
                outcome.error = "\(error)"
            } catch {
                outcome.error = Self.located(error, in: path, documents[outcomes.count])
            }
            outcomes.append(outcome)
        }
        let results = store.registerDefaults(definitions.map(\.definition))
        for ((index, _), result) in zip(definitions, results) {
            switch result {
            case .success(let registration): outcomes[index].registration = registration
            case .failure(let error): outcomes[index].error = Self.located(error, in: outcomes[index].file, documents[index])
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

    /// The job files of `directory`, full paths in file-name order; none when it does not exist.
    public static func jobFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { name in
            let lowered = name.lowercased()
            return (lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml")) && !name.hasPrefix(".")
        }.sorted()
            .map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 }
    }

    private func definition(in document: YAMLDocument) throws -> JobDefinition {
        guard let object = document.value.objectValue else {
            throw JobDefinitionError("expected a mapping with at least job_id and handler, found \(document.value.kindDescription)")
        }
        guard let id = object["job_id"], !id.isNull else {
            throw JobDefinitionError("'job_id' is required in a default job file", at: [.key("job_id")])
        }
        guard id.stringValue != nil else {
            // YAML 1.1 reads an unquoted yes/no/on/off as a boolean and 2026 as a number.
            // A boolean's spelling is gone by now (yes, on, true...): the example says one.
            let example = id.boolValue != nil ? "yes" : id.serialized()
            throw JobDefinitionError(
                "'job_id' must be a string, not \(id.kindDescription) (YAML reads unquoted yes, no, on, off and numbers "
                    + "as such); quote it, as in job_id: \"\(example)\"", at: [.key("job_id")])
        }
        let definition = try JobDefinition.parse(object, handlers: handlers, kwargsAtTopLevel: true)
        // The file is the whole truth about a default job: nothing stored is kept.
        for key in definition.handler.writeOnlyKwargs.sorted() where definition.kwargs[key] == .string(WriteOnlyKwargs.keep) {
            throw JobDefinitionError("'\(key)': \"keep\" is for replacing a job through the API; a default job file gives the \(key) itself", at: [.key(key)])
        }
        return definition
    }

    /// `path:line: message` for a definition error, the line being that of the key or element
    /// it names; `path: message` for another (a database error while registering).
    static func located(_ error: any Error, in path: String, _ document: YAMLDocument?) -> String {
        guard let document, let definitionError = error as? JobDefinitionError else { return "\(path): \(error)" }
        return "\(location(path, document, definitionError.path)) \(error)"
    }

    private static func location(_ path: String, _ document: YAMLDocument, _ at: JSONPath) -> String {
        "\(path):\(document.mark(at: at).line):"
    }
}
