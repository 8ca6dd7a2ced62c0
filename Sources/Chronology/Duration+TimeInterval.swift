extension Duration {
    /// The duration in seconds as a `Double`, for APIs that take one (Dispatch and Foundation
    /// deadlines, `NSCondition.wait(until:)`).
    public var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
