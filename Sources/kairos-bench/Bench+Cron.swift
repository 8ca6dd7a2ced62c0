import Chronology
import Foundation
import Scheduling

/// `kairos-bench cron`: the schedule computations, pure (no database): a preview of 1,000 times,
/// next-slot computations per second for hard expressions, and the misfire decision after ten
/// years down, each beside its interval counterpart.
extension Bench {
    func cron() throws {
        let zones = TimeZoneDatabase.system
        let start = CivilTime(year: 2026, month: 12, day: 1)!.timestamp
        func cronTrigger(_ text: String, _ zone: String) throws -> Trigger {
            .cron(CronSchedule(expression: try CronExpression(parsing: text), zone: try zones.rules(named: zone)), from: start)
        }
        let limit = CivilTime(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59)!.timestamp

        let fifthMonday = try cronTrigger("0 9 * * MON#5", "Europe/Prague")
        let preview = Self.medianMicroseconds(runs: 21) { _ = fifthMonday.slots(after: start, count: 1000, through: limit) }
        print("preview of 1,000 times, 0 9 * * MON#5 in Europe/Prague: median \(Self.format(preview / 1000)) ms (21 runs)")

        print("next-slot computations per second (one thread, 1 s each):")
        let hard: [(String, String)] = [
            ("0 9 * * MON#5", "Europe/Prague"), ("0 0 29 2 *", "UTC"), ("59 23 L * *", "Australia/Lord_Howe"),
            ("*/7 1-3 * * *", "America/New_York"), ("0 0 13 * FRI", "Pacific/Chatham"),
        ]
        for (text, zone) in hard {
            let trigger = try cronTrigger(text, zone)
            print("  \(text.padding(toLength: 16, withPad: " ", startingAt: 0)) \(zone.padding(toLength: 20, withPad: " ", startingAt: 0)) \(Self.format(Self.perSecond(trigger))) /s")
        }
        print("  every 60 s (interval)                 \(Self.format(Self.perSecond(.every(.seconds(60), from: start)))) /s")

        let decadeLater = start + 3653 * 86_400_000_000
        let everyMinute = try cronTrigger("* * * * *", "Europe/Prague")
        let cronDecision = Self.medianMicroseconds(runs: 201) {
            _ = Firing.evaluate(trigger: everyMinute, due: start, grace: .seconds(60), now: decadeLater)
        }
        let intervalDecision = Self.medianMicroseconds(runs: 201) {
            _ = Firing.evaluate(trigger: .every(.seconds(60), from: start), due: start, grace: .seconds(60), now: decadeLater)
        }
        print("misfire decision after ten years down (coalescing 5.26 million slots): * * * * * in Europe/Prague median \(Self.format(cronDecision)) µs; every 60 s \(Self.format(intervalDecision)) µs")
    }

    private static func perSecond(_ trigger: Trigger) -> Double {
        let begin = ContinuousClock.now
        var cursor = CivilTime(year: 2026, month: 1, day: 1)!.timestamp
        var count = 0
        while ContinuousClock.now - begin < .seconds(1) {
            for _ in 0..<100 {
                // Wrap before the end of time so a sparse expression keeps going.
                cursor = trigger.firstSlot(atOrAfter: cursor + 1) ?? CivilTime(year: 2026, month: 1, day: 1)!.timestamp
                if cursor > CivilTime(year: 9000, month: 1, day: 1)!.timestamp { cursor = CivilTime(year: 2026, month: 1, day: 1)!.timestamp }
                count += 1
            }
        }
        let elapsed = ContinuousClock.now - begin
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    private static func medianMicroseconds(runs: Int, _ body: () -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let begin = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - begin
            times.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
        }
        return times.sorted()[runs / 2]
    }

    private static func format(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(format: "%.2f", value)
    }
}
