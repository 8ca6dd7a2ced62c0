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
