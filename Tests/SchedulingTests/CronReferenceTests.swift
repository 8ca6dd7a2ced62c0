import Chronology
import Foundation
import Testing

@testable import Scheduling

/// Kairos's cron against an implementation nobody here wrote: `scripts/cron-reference.py`
/// generates the cases with PyPI's cronsim (Debian cron's DST rules) in the same test run, and
/// the test command points `KAIROS_CRON_REFERENCE` at its output.
@Suite struct CronReferenceTests {
    struct Case: Decodable {
        var expression: String
        var zone: String
        var after: String
        var times: [String]
    }

    static let path = ProcessInfo.processInfo.environment["KAIROS_CRON_REFERENCE"]

    @Test(.enabled(if: path != nil, "the test command generates the reference cases; set KAIROS_CRON_REFERENCE to run alone"))
    func everyReferenceCaseFiresAtTheSameTimes() throws {
        let data = try #require(FileManager.default.contents(atPath: Self.path!), "no reference cases at \(Self.path!)")
        let cases = try JSONDecoder().decode([Case].self, from: data)
        #expect(cases.count >= 300, "the reference run produced only \(cases.count) cases")
        var mismatches: [String] = []
        for item in cases {
            let schedule = CronSchedule(
                expression: try CronExpression(parsing: item.expression), zone: try TimeZoneDatabase.system.rules(named: item.zone))
            var time = try LooseDate.parse(item.after, now: Timestamp(microsecondsSinceEpoch: 0))
            var got: [String] = []
            for _ in item.times {
                guard let next = schedule.firstSlot(after: time) else { break }
                got.append(next.iso8601)
                time = next
            }
            let expected = try item.times.map { try LooseDate.parse($0, now: Timestamp(microsecondsSinceEpoch: 0)).iso8601 }
            if got != expected { mismatches.append("\(item.expression) in \(item.zone) after \(item.after): \(got) != \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ from cronsim:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }
}
