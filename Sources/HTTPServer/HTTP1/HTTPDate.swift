import Chronology
import Foundation

/// The `Date` header value (RFC 9110 §5.6.7, IMF-fixdate), formatted at most once a second by
/// each owner of a cache. Each connection owns one, so no lock is shared between connections.
struct HTTPDate {
    private var second = -1
    private var text = ""

    mutating func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &spec)
        if spec.tv_sec != second {
            second = spec.tv_sec
            text = Self.format(secondsSinceEpoch: second)
        }
        return text
    }

    static func format(secondsSinceEpoch seconds: Int) -> String {
        let civil = CivilTime(Timestamp(secondsSinceEpoch: Int64(seconds)))
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[civil.weekday]), \(two(civil.day)) \(months[civil.month - 1]) \(civil.year) "
            + "\(two(civil.hour)):\(two(civil.minute)):\(two(civil.second)) GMT"
    }
}
