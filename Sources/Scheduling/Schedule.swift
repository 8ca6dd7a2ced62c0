import Chronology

/// What bounds and shifts a trigger's slots: the controls a job may add to `when`,
/// `periodically` and `cron`.
public struct ScheduleControls: Sendable, Hashable {
    /// No slot before it.
    public var startDate: Timestamp?
    /// No slot after it (APScheduler's `end_date`: the last instant a slot may have).
    public var endDate: Timestamp?
    /// After this many firings carried out by the schedule, the job is finished.
    public var maxRuns: Int?
    /// Each slot fires up to this much later, by an offset fixed per job and slot.
    public var jitter: Period?

    public init(startDate: Timestamp? = nil, endDate: Timestamp? = nil, maxRuns: Int? = nil, jitter: Period? = nil) {
        self.startDate = startDate
        self.endDate = endDate
        self.maxRuns = maxRuns
        self.jitter = jitter
    }

    /// The longest jitter accepted: a day, far more than spreading load needs.
    public static let longestJitter = Period.days(1)
    public static let maxRunsRange = 1...1_000_000_000
}

/// The run times a job really has: its trigger's slots inside `startDate...endDate`, each moved
/// later by its jitter offset. The offset of a slot is a hash of the job's key and the slot
/// (never a random draw, nor Swift's per-process `Hasher`), so every replica computes the same
/// time and the same firing identity; and it is kept short of the next slot, so the moved
/// times stay in order and each slot keeps its place.
public struct Schedule: Sendable, Hashable, SlotSequence {
    public var trigger: Trigger
    public var controls: ScheduleControls
    /// Tells jobs apart in the jitter's hash: the job id's, from ``jitterKey(of:)``.
    public var jitterKey: UInt64

    public init(trigger: Trigger, controls: ScheduleControls = ScheduleControls(), jitterKey: UInt64 = 0) {
        self.trigger = trigger
        self.controls = controls
        self.jitterKey = jitterKey
    }

    /// FNV-1a over the id's UTF-8: stable across processes, versions and machines.
    public static func jitterKey(of id: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }

    private var hasJitter: Bool { (controls.jitter?.microseconds ?? 0) > 0 }

    // MARK: The trigger's slots inside the bounds

    func boundedFirst(atOrAfter time: Timestamp) -> Timestamp? {
        guard let slot = trigger.firstSlot(atOrAfter: controls.startDate.map { max(time, $0) } ?? time) else { return nil }
        return controls.endDate.map { slot <= $0 } ?? true ? slot : nil
    }

    func boundedLatest(atOrBefore time: Timestamp) -> Timestamp? {
        guard let slot = trigger.latestSlot(atOrBefore: controls.endDate.map { min(time, $0) } ?? time) else { return nil }
        return controls.startDate.map { slot >= $0 } ?? true ? slot : nil
    }

    /// The time `slot` (a bounded slot of the trigger) fires: later by its offset, which is less
    /// than the jitter and less than the gap to the next slot.
    public func firingTime(of slot: Timestamp) -> Timestamp {
        guard hasJitter, let jitter = controls.jitter else { return slot }
        var bound = jitter.microseconds
        if let next = boundedFirst(atOrAfter: slot + 1) { bound = min(bound, next - slot - 1) }
        guard bound > 0 else { return slot }
        return slot + Int64(Self.mix(jitterKey ^ UInt64(bitPattern: slot.microsecondsSinceEpoch)) % UInt64(bound + 1))
    }

    /// SplitMix64's finaliser: every bit of the input moves every bit of the output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    // MARK: Firing times

    public func firstSlot(atOrAfter time: Timestamp) -> Timestamp? {
        guard hasJitter else { return boundedFirst(atOrAfter: time) }
        // The slot before `time` may fire at or after it, moved by its offset.
        if let previous = boundedLatest(atOrBefore: time), case let moved = firingTime(of: previous), moved >= time { return moved }
        return boundedFirst(atOrAfter: time).map(firingTime(of:))
    }

    public func latestSlot(atOrBefore time: Timestamp) -> Timestamp? {
        guard hasJitter else { return boundedLatest(atOrBefore: time) }
        guard let latest = boundedLatest(atOrBefore: time) else { return nil }
        let moved = firingTime(of: latest)
        if moved <= time { return moved }
        return boundedLatest(atOrBefore: latest - 1).map(firingTime(of:))
    }

    public func slotCount(from: Timestamp, through: Timestamp) -> Int64 {
        guard let first = firstSlot(atOrAfter: from), let last = latestSlot(atOrBefore: through), first <= last else { return 0 }
        // A firing time lies between its slot and the next, so the slot at or before it is its own.
        return trigger.slotCount(from: boundedLatest(atOrBefore: first)!, through: boundedLatest(atOrBefore: last)!)
    }
}

/// Run times that answer "first at or after", "latest at or before" and "how many between":
/// a bare ``Trigger``, or a job's ``Schedule``. Misfire evaluation works on either.
public protocol SlotSequence: Sendable {
    func firstSlot(atOrAfter time: Timestamp) -> Timestamp?
    func latestSlot(atOrBefore time: Timestamp) -> Timestamp?
    func slotCount(from: Timestamp, through: Timestamp) -> Int64
}

extension Trigger: SlotSequence {}

extension SlotSequence {
    /// Up to `count` run times strictly after `time`, in order, none past `last` (the latest
    /// time the caller can write): what a preview shows.
    public func slots(after time: Timestamp, count: Int, through last: Timestamp) -> [Timestamp] {
        var times: [Timestamp] = []
        times.reserveCapacity(min(count, 1000))
        var cursor = time
        while times.count < count, cursor < last, let next = firstSlot(atOrAfter: cursor + 1), next <= last {
            times.append(next)
            cursor = next
        }
        return times
    }
}
