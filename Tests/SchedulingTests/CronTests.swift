import Chronology
import Testing

@testable import Scheduling

/// Cron in time zones at the real transitions of 2026, by Debian cron's rules. The expected
/// times were generated with PyPI's `cronsim` 2.6 (which follows Debian cron) and Python's
/// `zoneinfo` over the same tzdata, six slots after a start just before each change.
private func ts(_ text: String) throws -> Timestamp { try LooseDate.parse(text, now: Timestamp(microsecondsSinceEpoch: 0)) }

@Suite struct CronTransitionTests {
    static let cases: [(String, String, String, [String])] = [
        ("30 2 * * *", "Europe/Prague", "2026-03-28T22:00:00Z", ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z", "2026-04-01T00:30:00Z", "2026-04-02T00:30:00Z", "2026-04-03T00:30:00Z"]),
        ("*/30 * * * *", "Europe/Prague", "2026-03-28T22:00:00Z", ["2026-03-28T22:30:00Z", "2026-03-28T23:00:00Z", "2026-03-28T23:30:00Z", "2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"]),
        ("0 1-3 * * *", "Europe/Prague", "2026-03-28T22:00:00Z", ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T23:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T01:00:00Z", "2026-03-30T23:00:00Z"]),
        ("30 2 * * *", "Europe/Prague", "2026-10-24T22:00:00Z", ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z", "2026-10-28T01:30:00Z", "2026-10-29T01:30:00Z", "2026-10-30T01:30:00Z"]),
        ("*/30 * * * *", "Europe/Prague", "2026-10-24T22:00:00Z", ["2026-10-24T22:30:00Z", "2026-10-24T23:00:00Z", "2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z"]),
        ("0 1-3 * * *", "Europe/Prague", "2026-10-24T22:00:00Z", ["2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-26T00:00:00Z", "2026-10-26T01:00:00Z", "2026-10-26T02:00:00Z"]),
        ("30 2 * * *", "America/New_York", "2026-03-08T04:00:00Z", ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z", "2026-03-11T06:30:00Z", "2026-03-12T06:30:00Z", "2026-03-13T06:30:00Z"]),
        ("*/30 * * * *", "America/New_York", "2026-03-08T04:00:00Z", ["2026-03-08T04:30:00Z", "2026-03-08T05:00:00Z", "2026-03-08T05:30:00Z", "2026-03-08T06:00:00Z", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z"]),
        ("0 1-3 * * *", "America/New_York", "2026-03-08T04:00:00Z", ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-09T05:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T07:00:00Z", "2026-03-10T05:00:00Z"]),
        ("30 2 * * *", "America/New_York", "2026-11-01T03:00:00Z", ["2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z", "2026-11-03T07:30:00Z", "2026-11-04T07:30:00Z", "2026-11-05T07:30:00Z", "2026-11-06T07:30:00Z"]),
        ("*/30 * * * *", "America/New_York", "2026-11-01T03:00:00Z", ["2026-11-01T03:30:00Z", "2026-11-01T04:00:00Z", "2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z"]),
        ("0 1-3 * * *", "America/New_York", "2026-11-01T03:00:00Z", ["2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z", "2026-11-02T06:00:00Z", "2026-11-02T07:00:00Z", "2026-11-02T08:00:00Z"]),
        ("30 2 * * *", "Australia/Lord_Howe", "2026-04-04T13:00:00Z", ["2026-04-04T16:00:00Z", "2026-04-05T16:00:00Z", "2026-04-06T16:00:00Z", "2026-04-07T16:00:00Z", "2026-04-08T16:00:00Z", "2026-04-09T16:00:00Z"]),
        ("*/30 * * * *", "Australia/Lord_Howe", "2026-04-04T13:00:00Z", ["2026-04-04T13:30:00Z", "2026-04-04T14:00:00Z", "2026-04-04T14:30:00Z", "2026-04-04T15:00:00Z", "2026-04-04T15:30:00Z", "2026-04-04T16:00:00Z"]),
        ("0 1-3 * * *", "Australia/Lord_Howe", "2026-04-04T13:00:00Z", ["2026-04-04T14:00:00Z", "2026-04-04T15:30:00Z", "2026-04-04T16:30:00Z", "2026-04-05T14:30:00Z", "2026-04-05T15:30:00Z", "2026-04-05T16:30:00Z"]),
        ("30 2 * * *", "Australia/Lord_Howe", "2026-10-03T13:00:00Z", ["2026-10-03T15:30:00Z", "2026-10-04T15:30:00Z", "2026-10-05T15:30:00Z", "2026-10-06T15:30:00Z", "2026-10-07T15:30:00Z", "2026-10-08T15:30:00Z"]),
        ("*/30 * * * *", "Australia/Lord_Howe", "2026-10-03T13:00:00Z", ["2026-10-03T13:30:00Z", "2026-10-03T14:00:00Z", "2026-10-03T14:30:00Z", "2026-10-03T15:00:00Z", "2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z"]),
        ("0 1-3 * * *", "Australia/Lord_Howe", "2026-10-03T13:00:00Z", ["2026-10-03T14:30:00Z", "2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z", "2026-10-04T14:00:00Z", "2026-10-04T15:00:00Z", "2026-10-04T16:00:00Z"]),
        ("30 2 * * *", "Pacific/Chatham", "2026-04-04T11:00:00Z", ["2026-04-04T12:45:00Z", "2026-04-05T13:45:00Z", "2026-04-06T13:45:00Z", "2026-04-07T13:45:00Z", "2026-04-08T13:45:00Z", "2026-04-09T13:45:00Z"]),
        ("*/30 * * * *", "Pacific/Chatham", "2026-04-04T11:00:00Z", ["2026-04-04T11:15:00Z", "2026-04-04T11:45:00Z", "2026-04-04T12:15:00Z", "2026-04-04T12:45:00Z", "2026-04-04T13:15:00Z", "2026-04-04T13:45:00Z"]),
        ("0 1-3 * * *", "Pacific/Chatham", "2026-04-04T11:00:00Z", ["2026-04-04T11:15:00Z", "2026-04-04T12:15:00Z", "2026-04-04T13:15:00Z", "2026-04-05T12:15:00Z", "2026-04-05T13:15:00Z", "2026-04-05T14:15:00Z"]),
        ("30 2 * * *", "Pacific/Chatham", "2026-09-26T11:00:00Z", ["2026-09-26T13:45:00Z", "2026-09-27T12:45:00Z", "2026-09-28T12:45:00Z", "2026-09-29T12:45:00Z", "2026-09-30T12:45:00Z", "2026-10-01T12:45:00Z"]),
        ("*/30 * * * *", "Pacific/Chatham", "2026-09-26T11:00:00Z", ["2026-09-26T11:15:00Z", "2026-09-26T11:45:00Z", "2026-09-26T12:15:00Z", "2026-09-26T12:45:00Z", "2026-09-26T13:15:00Z", "2026-09-26T13:45:00Z"]),
        ("0 1-3 * * *", "Pacific/Chatham", "2026-09-26T11:00:00Z", ["2026-09-26T12:15:00Z", "2026-09-26T13:15:00Z", "2026-09-26T14:00:00Z", "2026-09-27T11:15:00Z", "2026-09-27T12:15:00Z", "2026-09-27T13:15:00Z"]),
        ("30 2 * * *", "Asia/Kolkata", "2026-03-28T18:00:00Z", ["2026-03-28T21:00:00Z", "2026-03-29T21:00:00Z", "2026-03-30T21:00:00Z", "2026-03-31T21:00:00Z", "2026-04-01T21:00:00Z", "2026-04-02T21:00:00Z"]),
        ("*/30 * * * *", "Asia/Kolkata", "2026-03-28T18:00:00Z", ["2026-03-28T18:30:00Z", "2026-03-28T19:00:00Z", "2026-03-28T19:30:00Z", "2026-03-28T20:00:00Z", "2026-03-28T20:30:00Z", "2026-03-28T21:00:00Z"]),
        ("0 1-3 * * *", "Asia/Kolkata", "2026-03-28T18:00:00Z", ["2026-03-28T19:30:00Z", "2026-03-28T20:30:00Z", "2026-03-28T21:30:00Z", "2026-03-29T19:30:00Z", "2026-03-29T20:30:00Z", "2026-03-29T21:30:00Z"]),
        ("30 2 * * *", "Europe/Dublin", "2026-03-28T22:00:00Z", ["2026-03-29T01:30:00Z", "2026-03-30T01:30:00Z", "2026-03-31T01:30:00Z", "2026-04-01T01:30:00Z", "2026-04-02T01:30:00Z", "2026-04-03T01:30:00Z"]),
        ("*/30 * * * *", "Europe/Dublin", "2026-03-28T22:00:00Z", ["2026-03-28T22:30:00Z", "2026-03-28T23:00:00Z", "2026-03-28T23:30:00Z", "2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"]),
        ("0 1-3 * * *", "Europe/Dublin", "2026-03-28T22:00:00Z", ["2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T01:00:00Z", "2026-03-30T02:00:00Z", "2026-03-31T00:00:00Z"]),
        ("30 2 * * *", "Europe/Dublin", "2026-10-24T22:00:00Z", ["2026-10-25T02:30:00Z", "2026-10-26T02:30:00Z", "2026-10-27T02:30:00Z", "2026-10-28T02:30:00Z", "2026-10-29T02:30:00Z", "2026-10-30T02:30:00Z"]),
        ("*/30 * * * *", "Europe/Dublin", "2026-10-24T22:00:00Z", ["2026-10-24T22:30:00Z", "2026-10-24T23:00:00Z", "2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z"]),
        ("0 1-3 * * *", "Europe/Dublin", "2026-10-24T22:00:00Z", ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z", "2026-10-26T01:00:00Z", "2026-10-26T02:00:00Z", "2026-10-26T03:00:00Z"]),
    ]

    @Test(arguments: cases)
    func slotsAcrossEachChangeMatchDebianCron(expression: String, zone: String, start: String, expected: [String]) throws {
        let schedule = CronSchedule(
            expression: try CronExpression(parsing: expression), zone: try TimeZoneDatabase.system.rules(named: zone))
        var time = try ts(start)
        var got: [String] = []
        for _ in expected {
            let next = try #require(schedule.firstSlot(after: time))
            got.append(next.iso8601)
            time = next
        }
        #expect(got == expected.map { try! ts($0).iso8601 })
        // Walking back from the last finds the same slots, and counting agrees with walking.
        var back: [String] = []
        var cursor = time
        for _ in expected {
            let previous = try #require(schedule.latestSlot(atOrBefore: cursor))
            back.append(previous.iso8601)
            cursor = previous - 1
        }
        #expect(back.reversed() == got)
        let first = try ts(expected[0])
        #expect(schedule.slotCount(from: first, through: time) == Int64(expected.count))
        #expect(schedule.slotCount(from: first + 1, through: time - 1) == Int64(expected.count - 2))
    }
}

@Suite struct CronExpressionTests {
    private func slots(_ expression: String, after start: String, count: Int, zone: String = "UTC") throws -> [String] {
        let schedule = CronSchedule(expression: try CronExpression(parsing: expression), zone: try TimeZoneDatabase.system.rules(named: zone))
        var time = try ts(start)
        return try (0..<count).map { _ in
            time = try #require(schedule.firstSlot(after: time))
            return time.iso8601
        }
    }

    @Test func leapDayLastDaysNthAndLastWeekdays() throws {
        #expect(try slots("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 2) == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        #expect(try slots("0 12 L * *", after: "2028-01-31T12:00:00Z", count: 2) == ["2028-02-29T12:00:00Z", "2028-03-31T12:00:00Z"])
        // 5L: the last Friday; MON#5: a fifth Monday, which most months lack.
        #expect(try slots("0 9 * * 5L", after: "2026-12-01T00:00:00Z", count: 2) == ["2026-12-25T09:00:00Z", "2027-01-29T09:00:00Z"])
        #expect(try slots("0 9 * * MON#5", after: "2026-12-01T00:00:00Z", count: 2) == ["2027-03-29T09:00:00Z", "2027-05-31T09:00:00Z"])
        #expect(try slots("0 9 * * MON#2", after: "2026-12-01T00:00:00Z", count: 1) == ["2026-12-14T09:00:00Z"])
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // Vixie cron: the 13th or any Friday; with `*` leading a day field, both must hold.
        #expect(try slots("0 0 13 * FRI", after: "2026-02-01T00:00:00Z", count: 4)
            == ["2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z"])
        #expect(try slots("0 0 */13 * FRI", after: "2026-02-01T00:00:00Z", count: 2) == ["2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"])
    }

    @Test func macrosNamesRangesStepsAndLists() throws {
        #expect(try slots("@daily", after: "2026-05-01T10:00:00Z", count: 1) == ["2026-05-02T00:00:00Z"])
        #expect(try slots("@hourly", after: "2026-05-01T10:00:00Z", count: 1) == ["2026-05-01T11:00:00Z"])
        #expect(try slots("5/20 * * * *", after: "2026-05-01T10:00:00Z", count: 3)
            == ["2026-05-01T10:05:00Z", "2026-05-01T10:25:00Z", "2026-05-01T10:45:00Z"])
        #expect(try slots("0 9 * JAN,jul mon-fri", after: "2026-06-30T00:00:00Z", count: 1) == ["2026-07-01T09:00:00Z"])
        #expect(try slots("0 0 * * 7", after: "2026-05-01T00:00:00Z", count: 1) == ["2026-05-03T00:00:00Z"])
    }

    @Test(arguments: [
        ("0 0 32 * *", "field 3 (day of month): 32 is out of 1-31"),
        ("60 * * * *", "field 1 (minute): 60 is out of 0-59"),
        ("* 24 * * *", "field 2 (hour): 24 is out of 0-23"),
        ("* * * 13 *", "field 4 (month): 13 is out of 1-12 or JAN-DEC"),
        ("* * * * 8", "field 5 (day of week): 8 is out of 0-7 (0 and 7 are Sunday) or SUN-SAT"),
        ("* * * * MON#6", "field 5 (day of week): \"MON#6\" needs a week from 1 to 5"),
        ("*/0 * * * *", "field 1 (minute): \"*/0\" needs a whole step"),
        ("5-1 * * * *", "field 1 (minute): \"5-1\" is a range that ends before it starts"),
        ("x * * * *", "field 1 (minute): \"X\" is not a value"),
        ("* * * *", "has 4 fields; cron has 5"),
        ("@fortnightly", "is not a cron macro"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
    ])
    func errorsNameTheFieldTheValueAndWhatIsAccepted(expression: String, message: String) {
        #expect {
            _ = try CronExpression(parsing: expression)
        } throws: { error in
            (error as? SchedulingError)?.message.contains(message) == true
        }
    }

    @Test func tenYearsOfMissedMinutesAreCountedWithoutWalkingThem() throws {
        let schedule = CronSchedule(expression: try CronExpression(parsing: "* * * * *"), zone: try TimeZoneDatabase.system.rules(named: "Europe/Prague"))
        let from = try ts("2016-01-01T00:00:00Z")
        let through = try ts("2026-01-01T00:00:00Z")
        // Every minute of the ten years, each UTC minute exactly once (wall-clock times as they occur).
        #expect(schedule.slotCount(from: from, through: through) == (through - from) / 60_000_000 + 1)
        let fixed = CronSchedule(expression: try CronExpression(parsing: "0-59 0-23 * * *"), zone: schedule.zone)
        // Debian's rule for set times: a repeated hour fires once, a skipped one once at the gap's end.
        let days = (through - from) / 86_400_000_000
        #expect(fixed.slotCount(from: from, through: through) == days * 1440 + 1 - 10 * 60)
        #expect(schedule.latestSlot(atOrBefore: through) == through)
    }

    @Test func zoneNamesThatAreNotZonesAreRefusedBeforeTheFileSystem() {
        for name in ["right/Europe/Prague", "posix/Europe/Prague", "localtime", "posixrules", "Factory", "../../etc/passwd", "/etc/passwd", "Europe/../../etc", "Mars/Olympus", "", String(repeating: "A", count: 200)] {
            #expect(throws: SchedulingError.self) { try TimeZoneDatabase.system.rules(named: name) }
        }
        #expect(throws: Never.self) { try TimeZoneDatabase.system.rules(named: "America/Argentina/Buenos_Aires") }
    }
}

/// Misfire evaluation on cron slots: the rules intervals have, unchanged.
@Suite struct CronMisfireTests {
    private func trigger(_ expression: String, _ zone: String) throws -> Trigger {
        .cron(
            CronSchedule(expression: try CronExpression(parsing: expression), zone: try TimeZoneDatabase.system.rules(named: zone)),
            from: try ts("2026-01-01T00:00:00Z"))
    }

    @Test func downtimeOverSeveralSlotsAcrossSpringForwardCoalescesIntoTheLatestWithinGrace() throws {
        let hourly = try trigger("0 * * * *", "Europe/Prague")
        let due = try ts("2026-03-29T00:00:00Z")
        let now = try ts("2026-03-29T05:10:00Z")
        let firing = try #require(Firing.evaluate(trigger: hourly, due: due, grace: .seconds(3600), now: now))
        #expect(firing.action == .run)
        #expect(firing.slot == (try ts("2026-03-29T05:00:00Z")))
        #expect(firing.coalescedSlots == 5)  // 00:00 to 04:00 UTC; the local 02:00 never existed, every UTC hour did
        #expect(firing.nextRunTime == (try ts("2026-03-29T06:00:00Z")))
        #expect(Firing.evaluate(trigger: hourly, due: due, grace: .seconds(300), now: now)?.action == .miss)
    }

    @Test func aSetTimeMissedInTheRepeatedHourIsNotOwedASecondTime() throws {
        let nightly = try trigger("30 2 * * *", "Europe/Prague")
        // 02:30 CEST (00:30 UTC) was missed; the scheduler is back during the repeated 02:30 CET.
        let firing = try #require(
            Firing.evaluate(trigger: nightly, due: try ts("2026-10-25T00:30:00Z"), grace: .seconds(600), now: try ts("2026-10-25T01:35:00Z")))
        #expect(firing.action == .miss)
        #expect(firing.coalescedSlots == 0)
        #expect(firing.nextRunTime == (try ts("2026-10-26T01:30:00Z")))
    }

    @Test func aJobResumedAcrossAChangePicksUpAtTheNextWallClockSlot() throws {
        let nightly = try trigger("30 2 * * *", "America/New_York")
        // Paused before the spring-forward, resumed after it: 02:30 did not exist on 8 March, so
        // the next slot is 9 March 02:30 EDT.
        #expect(Firing.resumedRunTime(trigger: nightly, now: try ts("2026-03-08T07:01:00Z")) == (try ts("2026-03-09T06:30:00Z")))
    }
}
