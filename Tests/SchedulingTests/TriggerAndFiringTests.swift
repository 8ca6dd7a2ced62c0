import Chronology
import Scheduling
import Testing

/// Times in these tests are seconds after a fixed origin, to read like the scenarios.
private let origin = CivilTime(year: 2026, month: 3, day: 1)!.timestamp
private func t(_ seconds: Int64) -> Timestamp { origin + seconds * 1_000_000 }
private func every(_ seconds: Int64, from start: Int64 = 0) -> Trigger { .every(.seconds(seconds), from: t(start)) }

@Suite struct TriggerTests {
    @Test func oneShotWithoutWhenRunsNow() throws {
        #expect(try Trigger.make(when: nil, periodically: nil, now: t(5)) == .once(at: t(5)))
    }

    @Test func oneShotInThePastIsRefused() {
        #expect(throws: SchedulingError.self) { try Trigger.make(when: t(4), periodically: nil, now: t(5)) }
    }

    @Test func intervalWithoutWhenStartsOnePeriodAfterCreation() throws {
        #expect(try Trigger.make(when: nil, periodically: .seconds(60), now: t(5)) == every(60, from: 65))
    }

    @Test func intervalWithWhenStartsThere() throws {
        #expect(try Trigger.make(when: t(-100), periodically: .seconds(60), now: t(5)) == every(60, from: -100))
    }

    @Test func zeroIntervalIsRefused() {
        #expect(throws: SchedulingError("the interval must be longer than 0 seconds")) {
            try Trigger.make(when: nil, periodically: .seconds(0), now: t(0))
        }
    }

    @Test func slotsStayAlignedToTheStart() {
        let trigger = every(10, from: 3)
        #expect(trigger.firstSlot(atOrAfter: t(0)) == t(3))
        #expect(trigger.firstSlot(atOrAfter: t(3)) == t(3))
        #expect(trigger.firstSlot(atOrAfter: t(4)) == t(13))
        #expect(trigger.latestSlot(atOrBefore: t(2)) == nil)
        #expect(trigger.latestSlot(atOrBefore: t(22)) == t(13))
        #expect(trigger.latestSlot(atOrBefore: t(23)) == t(23))
        #expect(trigger.slotCount(from: t(3), through: t(23)) == 3)
        #expect(trigger.slotCount(from: t(4), through: t(12)) == 0)
    }
}

@Suite struct FiringTests {
    @Test func notDueYetIsNoFiring() {
        #expect(Firing.evaluate(trigger: every(10), due: t(10), grace: nil, now: t(9)) == nil)
    }

    @Test func onTimeRunsAndSchedulesTheNextSlot() {
        let firing = Firing.evaluate(trigger: every(10), due: t(10), grace: .seconds(1), now: t(10))
        #expect(firing == Firing(action: .run, slot: t(10), coalescedSlots: 0, lateness: 0, nextRunTime: t(20)))
    }

    @Test func downThirtyFiveSecondsWithinGraceRunsOnceThenStaysAligned() {
        // Interval 10 s, due at 10, down until 45: slots 10, 20, 30, 40 collapse into 40, late 5 s.
        let firing = Firing.evaluate(trigger: every(10), due: t(10), grace: .seconds(60), now: t(45))
        #expect(firing == Firing(action: .run, slot: t(40), coalescedSlots: 3, lateness: 5_000_000, nextRunTime: t(50)))
    }

    @Test func downThirtyFiveSecondsBeyondGraceIsMissedWithoutARun() {
        let firing = Firing.evaluate(trigger: every(10), due: t(10), grace: .seconds(5), now: t(46))
        #expect(firing == Firing(action: .miss, slot: t(40), coalescedSlots: 3, lateness: 6_000_000, nextRunTime: t(50)))
    }

    @Test func graceIsInclusive() {
        #expect(Firing.evaluate(trigger: every(10), due: t(10), grace: .seconds(5), now: t(45))?.action == .run)
    }

    @Test func oneShotDueDuringDowntimeWithinGraceRuns() {
        let firing = Firing.evaluate(trigger: .once(at: t(10)), due: t(10), grace: .seconds(60), now: t(40))
        #expect(firing == Firing(action: .run, slot: t(10), coalescedSlots: 0, lateness: 30_000_000, nextRunTime: nil))
    }

    @Test func oneShotDueDuringDowntimeBeyondGraceIsMissed() {
        let firing = Firing.evaluate(trigger: .once(at: t(10)), due: t(10), grace: .seconds(60), now: t(71))
        #expect(firing?.action == .miss)
        #expect(firing?.nextRunTime == nil)
    }

    @Test func withoutGraceALateRunAlwaysRunsOnce() {
        let firing = Firing.evaluate(trigger: every(10), due: t(10), grace: nil, now: t(86_400 * 30 + 7))
        #expect(firing?.action == .run)
        #expect(firing?.slot == t(86_400 * 30))
        let expected: Int64 = 86_400 * 3 - 1
        #expect(firing?.coalescedSlots == expected)
    }

    @Test func oneSecondIntervalDownForAYearIsOneDecision() throws {
        let year: Int64 = 365 * 86_400
        let clock = ContinuousClock()
        var firing: Firing?
        // The fastest of five: a host that pauses the process during one of them says nothing of
        // the code.
        let fastest = (0..<5).map { _ in
            clock.measure {
                firing = Firing.evaluate(trigger: every(1), due: t(1), grace: .seconds(30), now: t(year) + 500_000)
            }
        }.min()!
        #expect(firing == Firing(action: .run, slot: t(year), coalescedSlots: year - 1, lateness: 500_000, nextRunTime: t(year + 1)))
        // O(1): a loop over 31 million slots could not finish in a millisecond.
        #expect(fastest < .milliseconds(1))
    }

    @Test func servicePausedForThreeIntervalsLetsTheMisfireRulesDecide() {
        // The pause keeps next_run_time (10); resumed at 42, the slots 10, 20, 30, 40 coalesce.
        let withinGrace = Firing.evaluate(trigger: every(10), due: t(10), grace: .seconds(5), now: t(42))
        #expect(withinGrace?.action == .run)
        #expect(withinGrace?.slot == t(40))
        #expect(withinGrace?.coalescedSlots == 3)
        let beyondGrace = Firing.evaluate(trigger: every(10), due: t(10), grace: .seconds(1), now: t(42))
        #expect(beyondGrace?.action == .miss)
    }

    @Test func resumedJobDoesNotReplayWhatItMissed() {
        // Paused at 5 (next_run_time cleared), resumed at 42: the next run is 50, nothing at 42.
        let resumed = Firing.resumedRunTime(trigger: every(10), now: t(42))!
        #expect(resumed == t(50))
        #expect(Firing.evaluate(trigger: every(10), due: resumed, grace: nil, now: t(42)) == nil)
    }

    @Test func resumedOneShotWhoseTimePassedFiresAtOnceSubjectToGrace() {
        let resumed = Firing.resumedRunTime(trigger: .once(at: t(10)), now: t(42))!
        #expect(resumed == t(10))
        #expect(Firing.evaluate(trigger: .once(at: t(10)), due: resumed, grace: .seconds(60), now: t(42))?.action == .run)
        #expect(Firing.evaluate(trigger: .once(at: t(10)), due: resumed, grace: .seconds(10), now: t(42))?.action == .miss)
    }
}
