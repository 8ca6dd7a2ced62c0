import Scheduling
import Testing

@Suite struct PeriodParsingTests {
    @Test(arguments: [
        ("1 week", 604_800.0), ("2 weeks 3 days", 1_468_800), ("1 day", 86_400), ("1 days", 86_400),
        ("365 days", 31_536_000), ("99999 days", 8_639_913_600), ("5:00:00", 18_000), ("1:30", 90),
        ("1h30m", 5_400), ("1.5h", 5_400), ("90s", 90), ("45", 45), ("2 mins", 120), ("3 hrs", 10_800),
        ("1 day, 0:00:00", 86_400), ("365 days, 0:00:00", 31_536_000), ("2 weeks, 3 days", 1_468_800),
        ("  10 MINUTES ", 600), ("1w2d3h4m5s", 788_645), ("0:00:01.5", 1.5), ("1.25", 1.25), (".5h", 1_800),
        ("1 day 5:00:00", 104_400), ("1:02:03:04", 93_784), ("0", 0), ("1 wk", 604_800), ("1 sec", 1),
    ])
    func readsPytimeparseForms(text: String, seconds: Double) throws {
        #expect(try Period(parsing: text).microseconds == Int64(seconds * 1_000_000))
    }

    @Test(arguments: [
        "", " ", "1 dya", "abc", "1 day 1 day", "1 second 1 minute", "5 :00", "1:60", "1:5", "1:2:3:4:5",
        "1 hour 5:00:00", "-5", "1..5", ".", "1,", ",1 day", "1 day,, 2 hours", "day", "1 day 2", "10%",
        "1:00.5:00", "1e3",
    ])
    func rejectsEverythingElseQuotingTheInput(text: String) {
        #expect(throws: SchedulingError("\"\(text)\" is not a duration; try \"1 day\", \"5:00:00\", \"1h30m\" or \"90s\"")) {
            try Period(parsing: text)
        }
    }

    @Test func aMillionDaysIsTooLong() throws {
        #expect(try Period(parsing: "999999 days") == .maximum)
        // However far past the limit, and whatever 64 bits can hold, too long is too long.
        for text in ["100000000 days", "1000000000 days", "99999999999999999999 weeks", "1000000000000000000000", "99999999999999999999"] {
            #expect(throws: SchedulingError("\"\(text)\" is too long; the longest duration accepted is 999999 days")) { try Period(parsing: text) }
        }
        #expect(throws: SchedulingError("\"1000000 days\" is too long; the longest duration accepted is 999999 days")) {
            try Period(parsing: "1000000 days")
        }
    }
}

@Suite struct PeriodFormattingTests {
    @Test(arguments: [
        (18_000_000_000, "5:00:00"), (86_400_000_000, "1 day, 0:00:00"), (31_536_000_000_000, "365 days, 0:00:00"),
        (45_000_000, "0:00:45"), (1_500_000, "0:00:01.500000"), (0, "0:00:00"), (90_061_000_001, "1 day, 1:01:01.000001"),
        (172_800_000_000, "2 days, 0:00:00"),
    ] as [(Int64, String)])
    func printsAsPythonTimedelta(microseconds: Int64, text: String) throws {
        let period = Period(microseconds: microseconds)
        #expect(period.description == text)
        #expect(try Period(parsing: text) == period)
    }
}
