import Chronology
import Foundation
import Testing

@Suite struct CivilTimeTests {
    @Test func epochIsNineteenSeventy() {
        let epoch = CivilTime(Timestamp(microsecondsSinceEpoch: 0))
        #expect(epoch == CivilTime(year: 1970, month: 1, day: 1))
        #expect(epoch.weekday == 4)  // Thursday
    }

    @Test func everyDayFrom1600To2400RoundTrips() {
        var timestamp = CivilTime(year: 1600, month: 1, day: 1)!.timestamp
        var expected = CivilTime(year: 1600, month: 1, day: 1)!
        let end = CivilTime(year: 2400, month: 12, day: 31)!.timestamp
        while timestamp <= end {
            let civil = CivilTime(timestamp)
            guard civil == expected, civil.timestamp == timestamp else {
                Issue.record("\(timestamp.microsecondsSinceEpoch) read as \(civil), expected \(expected)")
                return
            }
            timestamp = timestamp + 86_400_000_000
            expected = Self.dayAfter(expected)
        }
    }

    private static func dayAfter(_ civil: CivilTime) -> CivilTime {
        if civil.day < CivilTime.daysIn(month: civil.month, year: civil.year) {
            return CivilTime(year: civil.year, month: civil.month, day: civil.day + 1)!
        }
        if civil.month < 12 { return CivilTime(year: civil.year, month: civil.month + 1, day: 1)! }
        return CivilTime(year: civil.year + 1, month: 1, day: 1)!
    }

    @Test(arguments: [
        (2024, 2, 29, true), (2023, 2, 29, false), (1900, 2, 29, false), (2000, 2, 29, true),
        (2026, 4, 31, false), (2026, 13, 1, false), (2026, 0, 1, false), (2026, 1, 0, false),
    ])
    func onlyRealDaysExist(year: Int, month: Int, day: Int, exists: Bool) {
        #expect((CivilTime(year: year, month: month, day: day) != nil) == exists)
    }

    @Test func timeFieldsAreRangeChecked() {
        #expect(CivilTime(year: 2026, month: 1, day: 1, hour: 24) == nil)
        #expect(CivilTime(year: 2026, month: 1, day: 1, minute: 60) == nil)
        #expect(CivilTime(year: 2026, month: 1, day: 1, second: 60) == nil)
        #expect(CivilTime(year: 2026, month: 1, day: 1, microsecond: 1_000_000) == nil)
        #expect(CivilTime(year: 2026, month: 1, day: 1, hour: 23, minute: 59, second: 59, microsecond: 999_999) != nil)
    }

    @Test func negativeTimestampsAreBeforeTheEpoch() {
        let justBefore = CivilTime(Timestamp(microsecondsSinceEpoch: -1))
        #expect(justBefore == CivilTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999_999))
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z", "1970-01-01 00:00:00+00"),
        (Int64(1_772_323_200_000_000), "2026-03-01T00:00:00Z", "2026-03-01 00:00:00+00"),
        (Int64(1_772_323_200_123_456), "2026-03-01T00:00:00.123456Z", "2026-03-01 00:00:00.123456+00"),
        (Int64(951_782_400_000_001), "2000-02-29T00:00:00.000001Z", "2000-02-29 00:00:00.000001+00"),
        (Int64(-1), "1969-12-31T23:59:59.999999Z", "1969-12-31 23:59:59.999999+00"),
    ])
    func formats(micros: Int64, iso: String, postgres: String) {
        let timestamp = Timestamp(microsecondsSinceEpoch: micros)
        #expect(timestamp.iso8601 == iso)
        #expect(timestamp.postgresText == postgres)
    }

    @Test(arguments: [
        (Int64(253_402_300_800_000_000), "+010000-01-01T00:00:00Z"),
        (Int64(-62_167_219_200_000_001), "-000001-12-31T23:59:59.999999Z"),
        (Int64(-62_167_219_200_000_000), "0000-01-01T00:00:00Z"),
    ])
    func yearsPastFourDigitsAreSigned(micros: Int64, iso: String) {
        #expect(Timestamp(microsecondsSinceEpoch: micros).iso8601 == iso)
    }

    @Test func millisecondsAreAlwaysWrittenAndTruncated() {
        #expect(Timestamp(microsecondsSinceEpoch: 1_772_323_200_000_000).iso8601Milliseconds == "2026-03-01T00:00:00.000Z")
        #expect(Timestamp(microsecondsSinceEpoch: 1_772_323_200_123_999).iso8601Milliseconds == "2026-03-01T00:00:00.123Z")
    }

    @Test func appendedBytesAreTheISOText() {
        var bytes = Array("at ".utf8)
        let timestamp = Timestamp(microsecondsSinceEpoch: 1_772_323_200_000_450)
        timestamp.appendISO8601(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "at 2026-03-01T00:00:00.000450Z")
    }

    @Test func dateConversionKeepsMicroseconds() {
        let timestamp = Timestamp(microsecondsSinceEpoch: 1_772_323_200_123_457)
        #expect(Timestamp(timestamp.date) == timestamp)
    }

    @Test func arithmeticIsExact() {
        let start = Timestamp(microsecondsSinceEpoch: 1_772_323_200_000_000)
        let later = start + 31_536_000_000_000 * 3
        #expect(later - start == 94_608_000_000_000)
        #expect(later - 94_608_000_000_000 == start)
        #expect(start < later)
    }
}
