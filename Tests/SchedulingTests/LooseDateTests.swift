import Chronology
import Scheduling
import Testing

@Suite struct LooseDateTests {
    static let now = CivilTime(year: 2026, month: 11, day: 24, hour: 12)!.timestamp

    @Test(arguments: [
        ("2017-04-01T20:00:00Z", "2017-04-01T20:00:00Z"), ("2017-04-01T22:00:00+02:00", "2017-04-01T20:00:00Z"),
        ("2017-04-01T18:30:00-0130", "2017-04-01T20:00:00Z"), ("2017-04-01T20:00:00", "2017-04-01T20:00:00Z"),
        ("2017-04-01T20:00:00.25", "2017-04-01T20:00:00.250000Z"), ("2017-04-01 20:00:00", "2017-04-01T20:00:00Z"),
        ("2017-04-01 20:00", "2017-04-01T20:00:00Z"), ("2017-04-01", "2017-04-01T00:00:00Z"),
        // Without a year, the next such date: February 2026 has gone by on 2026-11-24.
        ("Sat Feb 20, 14:56", "2027-02-20T14:56:00Z"), ("Feb 20 2017 14:56", "2017-02-20T14:56:00Z"), ("Dec 1, 9:00", "2026-12-01T09:00:00Z"),
        ("Nov 24, 12:00", "2026-11-24T12:00:00Z"), ("Nov 24, 11:59", "2027-11-24T11:59:00Z"), ("Mon Feb 20 2017 14:56", "2017-02-20T14:56:00Z"),
        ("february 20, 2017", "2017-02-20T00:00:00Z"), (" 2026-12-01 02:00 ", "2026-12-01T02:00:00Z"),
        ("2016-02-29T00:00:00+00", "2016-02-29T00:00:00Z"),
    ])
    func readsTheFormsFabric8UsersTyped(text: String, iso: String) throws {
        #expect(try LooseDate.parse(text, now: Self.now).iso8601 == iso)
    }

    @Test(arguments: [
        "", "tomorrow", "2017-13-01", "2017-02-30", "2017-04-01T25:00", "2017-04-01T20:00:00+25:00", "2017-4-1",
        "2017-04-01X20:00", "Feb 30, 14:56", "Mon Foo 20, 14:56", "Feb 20, 14:61", "2017-04-01T20:00:00Zjunk",
        "Feb 20 14:56 2017 extra", "20:00",
    ])
    func rejectsWhatIsNotADate(text: String) {
        #expect(throws: SchedulingError.self) { try LooseDate.parse(text, now: Self.now) }
    }

    @Test func aYearlessDateIsTheNextSuchDateAndFebruary29TheNextLeapOne() throws {
        let leapDay = try LooseDate(parsing: "Feb 29, 10:00")
        #expect(try leapDay.timestamp(now: Self.now).iso8601 == "2028-02-29T10:00:00Z")
        #expect(try leapDay.timestamp(now: CivilTime(year: 2028, month: 2, day: 29, hour: 11)!.timestamp).iso8601 == "2032-02-29T10:00:00Z")
        #expect(throws: SchedulingError.self) { try LooseDate(parsing: "Feb 30, 10:00") }
    }

    @Test func aYearlessReadingNamesWhatItResolvedToInAnyYear() throws {
        let yearless = try LooseDate(parsing: "Feb 20, 14:56")
        #expect(yearless.names(CivilTime(year: 2027, month: 2, day: 20, hour: 14, minute: 56)!.timestamp))
        #expect(yearless.names(CivilTime(year: 2031, month: 2, day: 20, hour: 14, minute: 56)!.timestamp))
        #expect(!yearless.names(CivilTime(year: 2027, month: 2, day: 20, hour: 14, minute: 57)!.timestamp))
        let exact = try LooseDate(parsing: "2027-02-20 14:56")
        #expect(exact.names(CivilTime(year: 2027, month: 2, day: 20, hour: 14, minute: 56)!.timestamp))
        #expect(!exact.names(CivilTime(year: 2028, month: 2, day: 20, hour: 14, minute: 56)!.timestamp))
    }

    /// A weekday that is not the date's own is refused rather than ignored, as the README's own
    /// example form shows: Feb 20, 2027 is a Saturday.
    @Test(arguments: [
        ("Mon Feb 20, 14:56", "February 20, 2027 is a Saturday, not a Monday; fix the weekday or leave it out"),
        ("Tue Feb 20 2017 14:56", "February 20, 2017 is a Monday, not a Tuesday; fix the weekday or leave it out"),
    ])
    func aWeekdayThatIsNotTheDatesOwnIsRefused(text: String, message: String) throws {
        #expect(throws: SchedulingError(message)) { try LooseDate.parse(text, now: Self.now) }
    }
}
