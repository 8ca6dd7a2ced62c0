import FilterQuery
import HTTPServer
import JSON

/// Reading what a request carries, with 4xx errors that say what to fix.
extension HTTPRequest {
    /// The deepest JSON a body may be: deep enough for the deepest `$filter` the standard limits
    /// accept inside a job body, so those limits are the ones a deep filter meets.
    static let maximumBodyNesting = FilterLimits.standard.deepestNesting + 8

    /// The body as a JSON object; an empty body is `{}`.
    /// - Throws: 415 for a non-JSON content type, 400 for invalid JSON or a non-object.
    func jsonObjectBody() throws(HTTPError) -> JSONObject {
        let value = try jsonBody()
        guard let object = value.objectValue else {
            throw HTTPError(.badRequest, "the body must be a JSON object, not \(value.kindDescription)")
        }
        return object
    }

    /// The body as any JSON value; an empty body is `{}`.
    /// - Throws: 415 for a non-JSON content type, 400 for invalid JSON.
    func jsonBody() throws(HTTPError) -> JSONValue {
        if let type = headers["Content-Type"] {
            let mediaType = type.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased()
            guard mediaType == "application/json" || mediaType.hasSuffix("+json") else {
                throw HTTPError(.unsupportedMediaType, "send the body as JSON with Content-Type: application/json, not \(type)")
            }
        }
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        do {
            return try JSONValue(parsing: body, maximumDepth: Self.maximumBodyNesting)
        } catch {
            throw HTTPError(.badRequest, "the body is not valid JSON: \(error)")
        }
    }

    /// The query parameter `name` as one of `Choice`'s cases; `fallback` when absent.
    func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, fallback: Choice? = nil, excluding: [Choice] = []
    ) throws(HTTPError) -> Choice where Choice.RawValue == String {
        let accepted = Choice.allCases.filter { !excluding.map(\.rawValue).contains($0.rawValue) }
        let list = accepted.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard let text = queryValue(name) else {
            if let fallback { return fallback }
            throw HTTPError(.badRequest, "the query parameter '\(name)' is required: one of \(list)")
        }
        guard let value = accepted.first(where: { $0.rawValue == text }) else {
            throw HTTPError(.badRequest, "'\(name)': \"\(text)\" is not accepted; use one of \(list)")
        }
        return value
    }

    /// The query parameter `name` as an integer in `range`; `fallback` when absent.
    func integer(_ name: String, fallback: Int, range: ClosedRange<Int>) throws(HTTPError) -> Int {
        guard let text = queryValue(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError(.badRequest, "'\(name)': \"\(text)\" is not an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Refuses query parameters other than `known`, so a typo (`periodicaly`) is not ignored, and
    /// any given twice (`offset=7&offset=8`), where taking either would be a guess.
    func requireOnlyQueryParameters(_ known: [String]) throws(HTTPError) {
        for (index, (name, _)) in query.enumerated() {
            guard known.contains(name) else {
                guard !known.isEmpty else { throw HTTPError(.badRequest, "unknown query parameter '\(name)'; this route takes none") }
                throw HTTPError(.badRequest, "unknown query parameter '\(name)'; accepted: \(known.map { "'\($0)'" }.joined(separator: ", "))")
            }
            guard !query[..<index].contains(where: { $0.name == name }) else {
                let count = query.count { $0.name == name }
                throw HTTPError(.badRequest, "query parameter '\(name)' is given \(count) times; give it once")
            }
        }
    }

    /// The route's `{name}` segment.
    func parameter(_ name: String) -> String { parameters[name] ?? "" }
}

extension Router {
    /// Adds a route that refuses, with a 400 before `handler` runs, a query parameter other than
    /// those in `query` or one given twice: every API route is added this way, so a typo
    /// (`periodicaly`) is never silently ignored.
    mutating func add(
        _ method: HTTPMethod, _ path: String, query: [String], execution: Execution = .worker, _ handler: @escaping HTTPHandler
    ) {
        add(method, path, execution: execution) { request in
            try request.requireOnlyQueryParameters(query)
            return try handler(request)
        }
    }
}
