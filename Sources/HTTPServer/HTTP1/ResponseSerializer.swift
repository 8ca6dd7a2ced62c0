
/// Turns a response into the bytes on the wire: status line, headers (with `Content-Length`,
/// `Date`, `Server` and `Connection` added), blank line, body.
enum ResponseSerializer {
    /// - Parameters:
    ///   - isHead: a response to HEAD keeps `Content-Length` but sends no body.
    ///   - keepAlive: whether the connection stays open; adds `Connection: close` (or
    ///     `keep-alive` for an HTTP/1.0 client that asked for it).
    static func serialize(
        _ response: HTTPResponse, isHead: Bool, version: HTTPVersion, keepAlive: Bool, date: inout HTTPDate
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + response.body.count)
        bytes += "HTTP/1.1 ".utf8
        bytes += String(response.status.code).utf8
        bytes.append(UInt8(ascii: " "))
        bytes += response.status.reason.utf8
        bytes += crlf
        for (name, value) in response.headers where !managed(name) {
            bytes += name.utf8
            bytes += ": ".utf8
            // CR and LF are replaced so that no handler can split the response.
            bytes += value.utf8.lazy.map { $0 == 0x0D || $0 == 0x0A ? UInt8(ascii: " ") : $0 }
            bytes += crlf
        }
        if response.status.allowsBody {
            bytes += "Content-Length: ".utf8
            bytes += String(response.body.count).utf8
            bytes += crlf
        }
        bytes += "Date: ".utf8
        bytes += date.now().utf8
        bytes += "\r\nServer: kairos\r\n".utf8
        if !keepAlive {
            bytes += "Connection: close\r\n".utf8
        } else if version == .http10 {
            bytes += "Connection: keep-alive\r\n".utf8
        }
        bytes += crlf
        if !isHead && response.status.allowsBody {
            bytes += response.body
        }
        return bytes
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]

    /// The interim response that lets a client waiting on `Expect: 100-continue` send its body.
    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Headers the serializer owns; a handler's own values for them are dropped.
    private static func managed(_ name: String) -> Bool {
        HTTPHeaders.same(name, "Content-Length") || HTTPHeaders.same(name, "Date") || HTTPHeaders.same(name, "Server")
            || HTTPHeaders.same(name, "Connection") || HTTPHeaders.same(name, "Transfer-Encoding")
    }
}
