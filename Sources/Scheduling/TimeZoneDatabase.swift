import Foundation
import Locking

/// The system's tz database (`/usr/share/zoneinfo`, Debian's `tzdata`), read on first use of each
/// zone and kept. Names are checked before they touch the file system: a name is IANA-shaped
/// (`Europe/Prague`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`), never a path out of the folder.
public final class TimeZoneDatabase: Sendable {
    public static let system = TimeZoneDatabase(directory: "/usr/share/zoneinfo")

    public let directory: String
    private let zones = Locked<[String: TimeZoneRules]>([:])
    /// Zones kept at most: there are about 600; the bound holds against a client trying names.
    static let maximumCached = 2000

    public init(directory: String) { self.directory = directory }

    /// The zone's rules.
    /// - Throws: ``SchedulingError`` for a name that is not an IANA zone on this system.
    public func rules(named name: String) throws(SchedulingError) -> TimeZoneRules {
        if name == "UTC" { return .utc }
        if let known = zones.withLock({ $0[name] }) { return known }
        guard Self.isZoneShaped(name) else {
            throw SchedulingError("\"\(name.prefix(100))\" is not an IANA time zone name; use one such as \"Europe/Prague\" or \"UTC\"")
        }
        guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            throw SchedulingError("\"\(name)\" is not a time zone this system's tz database knows; use one such as \"Europe/Prague\" or \"UTC\"")
        }
        let rules = try TimeZoneRules(name: name, tzif: [UInt8](data))
        zones.withLock { zones in
            if zones.count < Self.maximumCached { zones[name] = rules }
        }
        return rules
    }

    /// Files and folders of the tz database that are not zones of civil time: `right/` counts
    /// leap seconds (its times are 27 s off), `posix/` repeats the zones, `localtime` is the
    /// server's own zone, `posixrules` and `Factory` are no one's.
    static let notZones: Set<String> = ["right", "posix", "localtime", "posixrules", "Factory"]

    /// Letters, digits, `_`, `-`, `+` in segments of 1 to 30 that do not start with a dot, at most
    /// four of them: every IANA name, and nothing that climbs out of the directory.
    static func isZoneShaped(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 100 else { return false }
        let segments = name.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count <= 4, !notZones.contains(String(segments[0])) else { return false }
        return segments.allSatisfy { segment in
            !segment.isEmpty && segment.utf8.count <= 30 && segment.first != "." && segment.first != "-"
                && segment.utf8.allSatisfy { byte in
                    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                }
        }
    }
}
