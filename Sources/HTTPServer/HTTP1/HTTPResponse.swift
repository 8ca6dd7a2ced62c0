import JSON

/// A response: status, headers and the whole body. The server adds `Content-Length`, `Date`,
/// `Server` and `Connection` when it writes it.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Set when the handler parks the request instead of answering (see `Parking`).
    public var parking: Parking?

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `value` as compact JSON with `Content-Type: application/json`.
    public static func json(_ value: JSONValue, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: value.serializedBytes())
    }

    /// An object written piece by piece with `Content-Type: application/json`: for answers of
    /// many objects, spelled straight into bytes (see `JSONMemberSink`).
    ///
    /// ```swift
    /// .json { $0.member("jobs", objects: jobs) { job, members in job.writeMembers(into: &members) } }
    /// ```
    public static func json(status: HTTPStatus = .ok, reservingCapacity capacity: Int = 1024, members: (inout JSONWriter) -> Void) -> HTTPResponse {
        var writer = JSONWriter(reservingCapacity: capacity)
        writer.writeObject(members)
        return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: writer.output)
    }

    /// `{"error": message}` with `status`: the shape of every error Kairos returns.
    public static func error(_ status: HTTPStatus, _ message: String) -> HTTPResponse {
        json(["error": .string(message)], status: status)
    }

    /// `text` with the given content type (UTF-8).
    public static func text(_ text: String, contentType: String = "text/plain; charset=utf-8", status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }
}

/// An error a handler throws to answer with `{"error": message}` and `status`; any other error
/// becomes a 500 that names only the request id (the log has the rest).
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPStatus
    public let message: String
    public var headers: HTTPHeaders = HTTPHeaders()

    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code): \(message)" }

    public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool {
        lhs.status == rhs.status && lhs.message == rhs.message
    }
}
