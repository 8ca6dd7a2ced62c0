import Chronology
import Testing

@testable import Scheduling

/// A trigger's slots inside `start_date...end_date`, moved by a jitter fixed per job and slot.
@Suite struct ScheduleTests {
    static let t0 = CivilTime(year: 2026, month: 12, day: 1)!.timestamp
    static let hour: Int64 = 3_600_000_000
    static let hourly = Trigger.every(.seconds(3600), from: t0)

    @Test func boundsKeepSlotsInsideStartAndEndBothIncluded() {
        let schedule = Schedule(trigger: Self.hourly, controls: ScheduleControls(startDate: Self.t0 + 2 * Self.hour + 1, endDate: Self.t0 + 5 * Self.hour))
        #expect(schedule.slots(after: Self.t0 - 1, count: 10, through: Self.t0 + 100 * Self.hour) == [3, 4, 5].map { Self.t0 + $0 * Self.hour })
        #expect(schedule.latestSlot(atOrBefore: Self.t0 + 2 * Self.hour) == nil)
        #expect(schedule.latestSlot(atOrBefore: Self.t0 + 50 * Self.hour) == Self.t0 + 5 * Self.hour)
        #expect(schedule.slotCount(from: Self.t0, through: Self.t0 + 50 * Self.hour) == 3)
        // After the last slot, a firing has no next: the job finishes.
        let firing = Firing.evaluate(slots: schedule, due: Self.t0 + 5 * Self.hour, grace: nil, now: Self.t0 + 5 * Self.hour)
        #expect(firing?.action == .run && firing?.nextRunTime == nil)
        // Down from 3:00 to 9:00: slots 3, 4, 5 coalesce into 5, and the next is none.
        let late = Firing.evaluate(slots: schedule, due: Self.t0 + 3 * Self.hour, grace: nil, now: Self.t0 + 9 * Self.hour)
        #expect(late?.slot == Self.t0 + 5 * Self.hour && late?.coalescedSlots == 2 && late?.nextRunTime == nil)
    }

    @Test func jitterIsFixedPerJobAndSlotWithinItsBoundAndShortOfTheNextSlot() {
        let jitter = Period.seconds(600)
        let a = Schedule(trigger: Self.hourly, controls: ScheduleControls(jitter: jitter), jitterKey: Schedule.jitterKey(of: "a"))
        let again = Schedule(trigger: Self.hourly, controls: ScheduleControls(jitter: jitter), jitterKey: Schedule.jitterKey(of: "a"))
        let b = Schedule(trigger: Self.hourly, controls: ScheduleControls(jitter: jitter), jitterKey: Schedule.jitterKey(of: "b"))
        let times = a.slots(after: Self.t0 - 1, count: 200, through: Self.t0 + 1000 * Self.hour)
        #expect(times == again.slots(after: Self.t0 - 1, count: 200, through: Self.t0 + 1000 * Self.hour))
        #expect(times != b.slots(after: Self.t0 - 1, count: 200, through: Self.t0 + 1000 * Self.hour))
        for (k, time) in times.enumerated() {
            let offset = time - (Self.t0 + Int64(k) * Self.hour)
            #expect(offset >= 0 && offset <= jitter.microseconds)
        }
        // Spread, not bunched: offsets over 200 slots cover most of the ten minutes.
        let offsets = times.enumerated().map { $0.element - (Self.t0 + Int64($0.offset) * Self.hour) }
        #expect(offsets.max()! - offsets.min()! > jitter.microseconds / 2)
        // The stable hash of an id: the same on every replica and every version (FNV-1a).
        #expect(Schedule.jitterKey(of: "") == 0xcbf2_9ce4_8422_2325)
        #expect(Schedule.jitterKey(of: "a") == 0xaf63_dc4c_8601_ec8c)
    }

    @Test func aJitterLongerThanTheIntervalStaysInOrder() {
        let schedule = Schedule(
            trigger: .every(.seconds(60), from: Self.t0), controls: ScheduleControls(jitter: .seconds(3600)), jitterKey: 42)
        let times = schedule.slots(after: Self.t0 - 1, count: 500, through: Self.t0 + 1000 * Self.hour)
        #expect(times.count == 500)
        for (k, time) in times.enumerated() {
            let slot = Self.t0 + Int64(k) * 60_000_000
            #expect(time >= slot && time < slot + 60_000_000)
        }
        // first/latest/count agree with the listed times.
        #expect(schedule.firstSlot(atOrAfter: times[10]) == times[10])
        #expect(schedule.firstSlot(atOrAfter: times[10] + 1) == times[11])
        #expect(schedule.latestSlot(atOrBefore: times[10]) == times[10])
        #expect(schedule.latestSlot(atOrBefore: times[11] - 1) == times[10])
        #expect(schedule.slotCount(from: times[10], through: times[20]) == 11)
        #expect(schedule.slotCount(from: times[10] + 1, through: times[20] - 1) == 9)
    }

    @Test func aJitteredFiringIsJudgedFromItsMovedTime() {
        let schedule = Schedule(trigger: Self.hourly, controls: ScheduleControls(jitter: .seconds(600)), jitterKey: 7)
        let first = schedule.firstSlot(atOrAfter: Self.t0)!
        let second = schedule.firstSlot(atOrAfter: first + 1)!
        #expect(Firing.evaluate(slots: schedule, due: first, grace: nil, now: first - 1) == nil)
        let onTime = Firing.evaluate(slots: schedule, due: first, grace: .seconds(1), now: first)
        #expect(onTime?.slot == first && onTime?.lateness == 0 && onTime?.nextRunTime == second)
        // Ten years of minutes down, jittered: still coalesced into one decision, every slot counted.
        let minutely = Schedule(
            trigger: .cron(CronSchedule(expression: try! CronExpression(parsing: "* * * * *"), zone: .utc), from: Self.t0),
            controls: ScheduleControls(jitter: .seconds(30)), jitterKey: 9)
        let due = minutely.firstSlot(atOrAfter: Self.t0)!
        let decade = Firing.evaluate(slots: minutely, due: due, grace: .seconds(60), now: Self.t0 + 3653 * 24 * Self.hour)
        #expect(decade?.coalescedSlots ?? 0 >= 3653 * 1440 - 2)
    }
}

@Suite struct CronExpressionCacheTests {
    @Test func aCachedExpressionIsTheParsedOneAndErrorsAreNotKept() throws {
        #expect(try CronExpressionCache.expression(parsing: "30 2 * * MON-FRI") == CronExpression(parsing: "30 2 * * MON-FRI"))
        #expect(try CronExpressionCache.expression(parsing: "30 2 * * MON-FRI") == CronExpression(parsing: "30 2 * * MON-FRI"))
        #expect(throws: SchedulingError.self) { try CronExpressionCache.expression(parsing: "0 0 30 2 *") }
        #expect(throws: SchedulingError.self) { try CronExpressionCache.expression(parsing: "0 0 30 2 *") }
    }
}
