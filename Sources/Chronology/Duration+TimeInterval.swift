extension Duration {
    /// The duration in seconds as a `Double`, for APIs that take one (Dispatch and Foundation
    /// deadlines, `NSCondition.wait(until:)`).
    public var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension Duration {
    /// The duration in whole microseconds, the unit of ``Timestamp``: `timestamp + lease.microseconds`.
    public var microseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }
}
