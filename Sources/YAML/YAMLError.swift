/// Why a YAML text was refused, and where: `line` and `column` count from 1.
///
/// Its description reads like a compiler's: `default_jobs/nightly.yaml:4:3: mapping values are not allowed here`.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file name given to the parser, if any.
    public let file: String?
    public let line: Int
    public let column: Int
    public let message: String

    public init(file: String?, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        "\(file ?? "<yaml>"):\(line):\(column): \(message)"
    }
}

/// A position in the text, 1-based.
public struct YAMLMark: Sendable, Equatable {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}
