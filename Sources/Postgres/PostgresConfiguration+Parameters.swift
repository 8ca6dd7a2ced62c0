import CLibPQ

extension PostgresConfiguration {
    /// The keywords and values that ``connectionString`` sets, as libpq itself reads it (a URI or
    /// keyword form, percent-decoded, quoted values unquoted); keywords it leaves unset are absent.
    ///
    /// - Throws: ``PostgresError`` of kind ``PostgresError/Kind/invalidParameter`` with libpq's
    ///   reason when the string cannot be read.
    public func connectionParameters() throws(PostgresError) -> [(keyword: String, value: String)] {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &message) else {
            let reason = message.map { String(cString: $0) } ?? "out of memory"
            if let message { PQfreemem(message) }
            throw PostgresError(kind: .invalidParameter, message: "the connection string cannot be read: \(reason)")
        }
        defer { PQconninfoFree(options) }
        var parameters: [(keyword: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { parameters.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return parameters
    }

    /// A keyword connection string for `parameters`, each value single-quoted with `\` and `'`
    /// escaped, as libpq's keyword form requires: `host='db' options='-csearch_path=t_1'`.
    public static func keywordString(_ parameters: [(keyword: String, value: String)]) -> String {
        parameters.map { keyword, value in
            var quoted = "'"
            for character in value {
                if character == "'" || character == "\\" { quoted.append("\\") }
                quoted.append(character)
            }
            return "\(keyword)=\(quoted)'"
        }.joined(separator: " ")
    }
}

extension PostgresConfiguration {
    /// How long opening a connection may take: the string's `connect_timeout` when it sets one
    /// (read as libpq does: 0 or less waits as long as it takes, 1 means 2), else
    /// ``connectTimeoutSeconds``. Kairos opens connections without blocking, which libpq leaves
    /// to the caller to time, so the rule is applied here.
    public func connectTimeout() throws(PostgresError) -> Duration? {
        let stated = try connectionParameters().last { $0.keyword == "connect_timeout" }.map { Int($0.value) ?? 0 }
        let seconds = stated ?? connectTimeoutSeconds
        guard seconds > 0 else { return nil }
        return .seconds(max(2, seconds))
    }
}
