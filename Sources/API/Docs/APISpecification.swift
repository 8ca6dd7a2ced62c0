import Foundation
import JSON
import YAML

/// The API's contract, `openapi.yaml`, as shipped beside the binary: its text, served as it is,
/// and its parsed form, served as JSON and turned into the docs page.
public struct APISpecification: Sendable {
    /// The file's bytes.
    public let yaml: [UInt8]
    public let document: JSONValue

    /// - Throws: ``YAMLError`` or a file error naming the path.
    public init(contentsOf path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        yaml = Array(data)
        document = try YAML.parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Every operation the spec describes: method in upper case, path as written.
    public var operations: [(method: String, path: String)] {
        guard let paths = document["paths"]?.objectValue else { return [] }
        return paths.flatMap { path, item in
            (item.objectValue?.keys ?? [])
                .filter { Self.methods.contains($0) }
                .map { (method: $0.uppercased(), path: path) }
        }
    }

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
}
