// libFuzzer entry point for the HTTP/1.1 request parser, compiled together with the parser's
// sources by scripts/fuzz.sh (-sanitize=fuzzer,address). Beyond "no crash, no memory error" it
// checks the parser's promises: the same bytes give the same requests however they are split,
// bodies never exceed the limit, and a refused stream stays refused.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks how the rest is cut into pieces, as reads would cut it.
    let pieceSize = Int(bytes[0] % 17) + 1
    let input = Array(bytes.dropFirst())
    var limits = HTTPLimits()
    limits.maximumRequestLineBytes = 512
    limits.maximumHeaderBytes = 2048
    limits.maximumHeaderCount = 32
    limits.maximumBodyBytes = 4096

    let whole = outcomes(of: [input], limits: limits)
    var pieces: [[UInt8]] = []
    var start = 0
    while start < input.count {
        pieces.append(Array(input[start..<min(input.count, start + pieceSize)]))
        start += pieceSize
    }
    let split = outcomes(of: pieces, limits: limits)
    if whole != split {
        fatalError("split into \(pieceSize)-byte pieces the input parses differently: \(whole) vs \(split)")
    }
    return 0
}

private func outcomes(of pieces: [[UInt8]], limits: HTTPLimits) -> [String] {
    var parser = RequestParser(limits: limits)
    var results: [String] = []
    for piece in pieces {
        parser.append(piece)
        while true {
            switch parser.next() {
            case .needMoreBytes:
                break
            case .sendContinue:
                continue
            case .request(let request):
                precondition(request.body.count <= limits.maximumBodyBytes, "a body beyond the limit was accepted")
                results.append("\(request.method) \(request.pathSegments) \(request.query.count) \(request.body.count) \(request.keepAlive)")
                continue
            case .reject(let status, _):
                guard case .reject = parser.next() else { fatalError("a refused stream went on parsing") }
                results.append("reject \(status.code)")
                return results
            }
            break
        }
    }
    return results
}
