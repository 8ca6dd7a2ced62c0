import Foundation
import Testing

/// Compares generated text with the checked-in file `Golden/<name>`. A missing file is written
/// from `text` and the test still fails, so a new golden file is always looked at before it is
/// committed.
func expectGolden(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    guard let golden = try? String(contentsOf: url, encoding: .utf8) else {
        try? text.write(to: url, atomically: true, encoding: .utf8)
        Issue.record("no golden file \(url.path); wrote it from this run: check it and commit it", sourceLocation: sourceLocation)
        return
    }
    #expect(text == golden, "differs from \(url.path)", sourceLocation: sourceLocation)
}
