/// The request-target split into decoded path segments and query parameters (RFC 9112 §3.2).
struct RequestTarget: Equatable {
    var path: String
    var segments: [String]
    var query: [(name: String, value: String)]

    static func == (lhs: RequestTarget, rhs: RequestTarget) -> Bool {
        lhs.path == rhs.path && lhs.segments == rhs.segments
            && lhs.query.map { [$0.name, $0.value] } == rhs.query.map { [$0.name, $0.value] }
    }

    /// Parses origin-form (`/a/b?x=1`), absolute-form (`http://host:80/a/b?x=1`) and asterisk-form (`*`).
    /// Returns the reason when the target is malformed.
    static func parse(_ target: String) -> Result<RequestTarget, TargetError> {
        if target == "*" { return .success(RequestTarget(path: "*", segments: [], query: [])) }
        var rest = Array(target.utf8)[...]
        if let schemeLength = absoluteFormPrefix(rest) {
            rest = rest.dropFirst(schemeLength)
            guard let pathStart = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) else {
                return .success(RequestTarget(path: "/", segments: [""], query: []))
            }
            rest = rest[pathStart...]
            if rest.first == UInt8(ascii: "?") { rest = ([UInt8(ascii: "/")] + rest)[...] }
        }
        guard rest.first == UInt8(ascii: "/") else { return .failure(TargetError("the request target must start with '/'")) }
        guard !rest.contains(UInt8(ascii: "#")) else { return .failure(TargetError("the request target may not contain '#'")) }
        let question = rest.firstIndex(of: UInt8(ascii: "?"))
        let pathPart = rest[..<(question ?? rest.endIndex)]
        var segments: [String] = []
        for raw in pathPart.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let decoded = percentDecode(raw, plusAsSpace: false) else {
                return .failure(TargetError("the path has an invalid percent-encoding or is not UTF-8"))
            }
            segments.append(decoded)
        }
        var query: [(name: String, value: String)] = []
        if let question {
            for pair in rest[(question + 1)...].split(separator: UInt8(ascii: "&")) {
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                guard let name = percentDecode(pair[..<equals], plusAsSpace: true),
                    let value = percentDecode(equals < pair.endIndex ? pair[(equals + 1)...] : [], plusAsSpace: true)
                else { return .failure(TargetError("the query has an invalid percent-encoding or is not UTF-8")) }
                query.append((name, value))
            }
        }
        return .success(RequestTarget(path: "/" + segments.joined(separator: "/"), segments: segments, query: query))
    }

    /// The length of `http://` or `https://` (any case) at the start, if there.
    private static func absoluteFormPrefix(_ bytes: ArraySlice<UInt8>) -> Int? {
        for scheme in ["http://", "https://"] where bytes.count >= scheme.utf8.count {
            if zip(bytes, scheme.utf8).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) { return scheme.utf8.count }
        }
        return nil
    }

    /// `%XX` decoded (and `+` as space when asked); nil for a bad escape, a NUL or bytes that are not UTF-8.
    static func percentDecode(_ text: ArraySlice<UInt8>, plusAsSpace: Bool) -> String? {
        guard text.contains(where: { $0 == UInt8(ascii: "%") || ($0 == UInt8(ascii: "+") && plusAsSpace) }) else {
            return String(validating: text, as: UTF8.self)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                let decoded = high << 4 | low
                guard decoded != 0 else { return nil }
                bytes.append(decoded)
            case UInt8(ascii: "+") where plusAsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

struct TargetError: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
