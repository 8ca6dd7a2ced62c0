import Chronology
import JSON
import Scheduling

/// What an operator's overview reads: pages of jobs with the strip of their latest slots, and
/// the firings the next hours hold.
extension JobStore {
    /// One run as a job's strip shows it: when, what it stood for and how it ended.
    public struct SlotSummary: Sendable, Equatable {
        public var scheduledFor: Timestamp
        /// Earlier slots this firing stood for (a misfire coalesced them).
        public var coalescedSlots: Int64
        public var cause: RunCause
        public var status: RunStatus

        public var json: JSONValue { .object(jsonObject) }
    }

    public struct JobPage: Sendable {
        public var jobs: [Job]
        /// How many jobs the query matches in all.
        public var total: Int
        /// Each listed job's latest runs, newest first (empty unless asked for).
        public var recentSlots: [String: [SlotSummary]]
    }

    /// The most runs a page may bring per job.
    public static let recentSlotLimit = 50

    /// A page of the query's jobs and, when `recentSlots` is above 0, that many of each job's
    /// latest runs, read on one connection (one statement for the whole page's runs).
    public func jobPage(_ query: JobQuery, recentSlots: Int) throws -> JobPage {
        precondition((0...Self.recentSlotLimit).contains(recentSlots), "at most \(Self.recentSlotLimit) recent slots per job")
        return try pool.withConnection { connection in
            let answers = try connection.queries([JobsTable.jobList(query), JobsTable.jobCount(query)])
            let jobs = try answers[0].map(JobsTable.decode)
            let total = try answers[1][0].decode(Int.self, column: "n")
            var slots: [String: [SlotSummary]] = [:]
            if recentSlots > 0, !jobs.isEmpty {
                for row in try connection.query(JobsTable.recentSlots(ids: jobs.map(\.id), count: recentSlots)) {
                    let slot = SlotSummary(
                        scheduledFor: try row.decode(Timestamp.self, column: "scheduled_for"),
                        coalescedSlots: try row.decode(Int64.self, column: "coalesced_slots"),
                        cause: try row.decode(RunCause.self, column: "cause"), status: try row.decode(RunStatus.self, column: "status"))
                    slots[try row.decode(String.self, column: "job_id"), default: []].append(slot)
                }
            }
            return JobPage(jobs: jobs, total: total, recentSlots: slots)
        }
    }

    /// The firings of running jobs from now through `within` ahead, earliest first.
    public struct Upcoming: Sendable {
        /// The judging time: the window starts here. A firing before it is overdue.
        public var now: Timestamp
        /// While `paused`, none of these fires.
        public var service: ServiceState
        public var firings: [(jobID: String, at: Timestamp)]
        /// More firings lie in the window than `limit` let through.
        public var truncated: Bool
        /// Jobs that fire more than `perJob` times in the window: only their first `perJob` firings are listed.
        public var capped: [String]
    }

    /// Up to `limit` firings in the next `within`, at most `perJob` of each job: each due job's
    /// stored next run time, then its schedule's later times (its jitter and max_runs heeded). Only the `limit + 1` earliest
    /// due jobs are read: no job after them can fire before the `limit`-th firing.
    public func upcoming(within: Period, limit: Int, perJob: Int = .max) throws -> Upcoming {
        try pool.withConnection { connection in
            let now = try clock.now(on: connection)
            let service = try ServiceStateTable.decode(try connection.query(ServiceStateTable.serviceStateSelect)[0])
            let through = now + within.microseconds
            let jobs = try connection.query(JobsTable.jobsDueBy(through, limit: limit + 1)).map(JobsTable.decode)
            let sources = jobs.compactMap { job in
                job.nextRunTime.map { first in
                    UpcomingFirings.Source(
                        key: job.id, first: first, slots: job.schedule,
                        remaining: job.controls.maxRuns.map { Int64($0) - job.runsFired }, resumesAt: now)
                }
            }
            let merged = UpcomingFirings.merge(sources, through: through, limit: limit, perSource: perJob)
            return Upcoming(
                now: now, service: service, firings: merged.firings.map { ($0.key, $0.at) }, truncated: merged.more, capped: merged.capped)
        }
    }
}

extension JobStore.SlotSummary: JSONObjectRepresentable {
    public func writeMembers(into members: inout some JSONMemberSink) {
        members.member("scheduled_for", scheduledFor.iso8601)
        members.member("coalesced_slots", coalescedSlots)
        members.member("cause", cause.rawValue)
        members.member("status", status.rawValue)
    }
}
