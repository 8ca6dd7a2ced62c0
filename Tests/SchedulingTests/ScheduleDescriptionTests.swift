import Chronology
import Testing

@testable import Scheduling

@Suite struct ScheduleDescriptionTests {
    @Test(arguments: [
        ("30 2 * * *", "At 02:30"),
        ("*/5 * * * *", "Every 5 minutes"),
        ("0-59/5 * * * *", "Every 5 minutes"),
        ("* * * * *", "Every minute"),
        ("@hourly", "Every hour"),
        ("@daily", "At 00:00"),
        ("15 * * * *", "Every hour, at 15 minutes past the hour"),
        ("0 */2 * * *", "Every 2 hours"),
        ("30 2 * * MON-FRI", "At 02:30, Monday through Friday"),
        ("0 8 * * 1,3", "At 08:00, Monday and Wednesday"),
        ("0 8 * * 0", "At 08:00, Sunday"),
        ("0 1-3 * * *", "At 01:00, 02:00 and 03:00"),
        ("0 9-17 * * *", "At minute 0, every hour from 09:00 to 17:59"),
        ("*/10 1,5-6 * * *", "Every 10 minutes, in the hours 01:00-01:59 and 05:00-06:59"),
        ("0 9 * * MON#5", "At 09:00, on the fifth Monday of the month"),
        ("0 9 * * 5L", "At 09:00, on the last Friday of the month"),
        ("0 0 L * *", "At 00:00, on the last day of the month"),
        ("0 0 1,15 * *", "At 00:00, on days 1 and 15 of the month"),
        ("0 0 13 * FRI", "At 00:00, on day 13 of the month, or Friday"),
        ("0 0 29 2 *", "At 00:00, on day 29 of the month, in February"),
        ("0 12 * JAN-MAR *", "At 12:00, in January through March"),
    ])
    func cronInWords(expression: String, words: String) throws {
        #expect(ScheduleDescription.of(try CronExpression(parsing: expression)) == words)
    }

    @Test func intervalsAndOneShotsInWords() {
        let start = CivilTime(year: 2026, month: 12, day: 1)!.timestamp
        #expect(ScheduleDescription.of(Trigger.every(.seconds(300), from: start)) == "Every 5 minutes")
        #expect(ScheduleDescription.of(Trigger.every(.days(1), from: start)) == "Every day")
        #expect(ScheduleDescription.of(Trigger.every(.seconds(90), from: start)) == "Every 90 seconds")
        #expect(ScheduleDescription.of(Trigger.every(Period(microseconds: 1_500_000), from: start)) == "Every 0:00:01.500000")
        #expect(ScheduleDescription.of(Trigger.once(at: start)) == "Once, at 2026-12-01T00:00:00Z")
    }

    /// The zone is the job's own field, never in the words: the same expression reads alike in every zone.
    @Test func theWordsDoNotDependOnTheZone() throws {
        let expression = try CronExpression(parsing: "30 2 * * *")
        let prague = Trigger.cron(CronSchedule(expression: expression, zone: try TimeZoneDatabase.system.rules(named: "Europe/Prague")), from: .init(microsecondsSinceEpoch: 0))
        #expect(ScheduleDescription.of(prague) == ScheduleDescription.of(expression))
    }

    @Test func slotsAfterAreStrictlyLaterAndStopAtTheLastWritableTime() throws {
        let start = CivilTime(year: 2026, month: 12, day: 1)!.timestamp
        let hourly = Trigger.every(.seconds(3600), from: start)
        #expect(hourly.slots(after: start, count: 2, through: start + 10 * 3_600_000_000) == [start + 3_600_000_000, start + 7_200_000_000])
        #expect(hourly.slots(after: start, count: 5, through: start + 7_200_000_000).count == 2)
        #expect(Trigger.once(at: start).slots(after: start, count: 3, through: start + 1).isEmpty)
        #expect(Trigger.once(at: start).slots(after: start - 1, count: 3, through: start + 1) == [start])
    }
}
