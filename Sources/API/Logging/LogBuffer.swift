/// The bytes of log lines waiting to be written, bounded: a line that does not fit is dropped
/// and counted rather than waited for, so a stalled log sink never holds up a request. Whole
/// lines only: a line is taken in full or not at all.
struct LogBuffer {
    /// The most bytes held at once.
    let capacity: Int
    private(set) var bytes: [UInt8] = []
    /// Lines refused because they did not fit, since the start.
    private(set) var droppedLines = 0
    /// Lines accepted, since the start.
    private(set) var acceptedLines = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a log buffer holds at least one byte")
        self.capacity = capacity
    }

    var isEmpty: Bool { bytes.isEmpty }

    /// Appends `line` and its newline if both fit; otherwise counts it as dropped.
    @discardableResult
    mutating func append(_ line: some Collection<UInt8>) -> Bool {
        guard line.count + 1 <= capacity - bytes.count else {
            droppedLines += 1
            return false
        }
        if bytes.capacity == 0 { bytes.reserveCapacity(min(capacity, 64 * 1024)) }
        bytes.append(contentsOf: line)
        bytes.append(0x0A)
        acceptedLines += 1
        return true
    }

    /// Moves everything held into `batch`, leaving the buffer empty. The batch is emptied first
    /// and its storage becomes the buffer's, so steady logging swaps two arrays and allocates
    /// nothing.
    mutating func moveAll(into batch: inout [UInt8]) {
        batch.removeAll(keepingCapacity: true)
        swap(&bytes, &batch)
    }
}
