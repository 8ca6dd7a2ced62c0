import HTTPServer
import Jobs
import JSON

/// The jobs API, in fabric8's shapes: `/jobs`, `/jobs/<handler>`, `/jobs/{job_id}`, its runs,
/// run-now, and `/jobs/clean-failed`.
struct JobRoutes {
    let store: JobStore
    let firer: JobFirer
    let handlers: HandlerRegistry
    /// Manual runs may expand filters: they take the same bounded share as the debug expansions.
    let share: ConnectionShare

    static let recentRuns = 10
    static let scheduleParameters = JobDefinition.scheduleKeys

    func add(to router: inout Router) {
        let jobs = KairosAPI.basePath + "/jobs"
        router.add(.get, jobs, query: ["job_type", "prefix", "state", "failed_job_id", "limit", "offset", "after", "slots"], answeringDomainErrors(list))
        router.add(.post, jobs, query: [], answeringDomainErrors(create))
        router.add(.delete, jobs + "/" + JobDefinition.cleanFailedSegment, query: [], answeringDomainErrors(cleanFailed))
        // One pattern, two meanings, as in fabric8: POST names a handler, the others a job.
        router.add(.post, jobs + "/{handler}", query: Self.scheduleParameters, answeringDomainErrors(createForHandler))
        router.add(.get, jobs + "/{job_id}", query: [], answeringDomainErrors(show))
        router.add(.put, jobs + "/{job_id}", query: ["state"], answeringDomainErrors(setState))
        router.add(.delete, jobs + "/{job_id}", query: [], answeringDomainErrors(delete))
        router.add(.post, jobs + "/{job_id}/run", query: [], answeringDomainErrors(runNow))
        router.add(.get, jobs + "/{job_id}/runs", query: ["limit", "offset"], answeringDomainErrors(runs))
    }

    static let pageSizes = 1...1000

    /// `GET /jobs?job_type=all|failed|user|finished&prefix=&state=&failed_job_id=&limit=&offset=&after=&slots=`
    /// → `{"jobs": [...], "jobs_count": N}`: a page in `job_id` order; N counts every job the
    /// listing, prefix, state and failed job match. With `slots=K` (1 to 50) each job has `recent_slots`:
    /// its latest K runs, newest first.
    func list(_ request: HTTPRequest) throws -> HTTPResponse {
        let listing: JobStore.Listing = try request.choice("job_type", fallback: .all)
        let failedJobID = try Self.jobIDParameter("failed_job_id", in: request, meaning: "the job whose failure records to list")
        if failedJobID != nil, listing != .failed {
            throw HTTPError(.badRequest, "'failed_job_id' picks failure records: use it with job_type=failed")
        }
        let query = JobQuery(
            listing: listing,
            idPrefix: try Self.jobIDParameter("prefix", in: request, meaning: "the start of the job ids to list"),
            state: request.queryValue("state") == nil ? nil : try request.choice("state") as JobState,
            failedJobID: failedJobID,
            after: try Self.jobIDParameter("after", in: request, meaning: "the last job_id of the previous page"),
            limit: try request.integer("limit", fallback: Self.pageSizes.upperBound, range: Self.pageSizes),
            offset: try request.integer("offset", fallback: 0, range: 0...Int(Int32.max)))
        let slots = try request.integer("slots", fallback: 0, range: 0...JobStore.recentSlotLimit)
        let page = try store.jobPage(query, recentSlots: slots)
        // A page of a thousand jobs is spelled straight into bytes, with no tree of values.
        return .json(reservingCapacity: 1024 * page.jobs.count + 64) { members in
            members.member("jobs", objects: page.jobs) { job, members in
                job.writeMembers(into: &members)
                if slots > 0 {
                    members.member("recent_slots", objects: page.recentSlots[job.id] ?? []) { slot, members in slot.writeMembers(into: &members) }
                }
            }
            members.member("jobs_count", Int64(page.total))
        }
    }

    /// The query parameter `name` as (a part of) a job id: 1 to 200 bytes, no NUL.
    private static func jobIDParameter(_ name: String, in request: HTTPRequest, meaning: String) throws -> String? {
        guard let value = request.queryValue(name) else { return nil }
        guard !value.isEmpty, value.utf8.count <= JobDefinition.maximumIDLength, !value.utf8.contains(0) else {
            throw HTTPError(.badRequest, "'\(name)' must be 1 to \(JobDefinition.maximumIDLength) bytes with no NUL: \(meaning)")
        }
        return value
    }

    /// `POST /jobs` with a job body → `201 {"job": ...}` (200 when it replaced one); with an
    /// array of job bodies, see ``createMany(_:)``.
    func create(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try request.jsonBody()
        if let bodies = body.arrayValue { return try createMany(bodies) }
        guard let object = body.objectValue else {
            throw HTTPError(.badRequest, "the body must be a job (a JSON object) or an array of jobs, not \(body.kindDescription)")
        }
        return try save(try JobDefinition.parse(object, handlers: handlers))
    }

    /// `POST /jobs` with an array of up to 10,000 job bodies → `201 {"jobs": [{"job_id",
    /// "created", "next_run_time"}, ...], "created": N, "replaced": M}` (200 when none is new):
    /// all saved in one transaction, or none, the error naming the index of the first that
    /// cannot be. Each job is summed up rather than echoed whole: the client has just sent it,
    /// and 10,000 whole jobs would be megabytes to write and read back.
    func createMany(_ bodies: [JSONValue]) throws -> HTTPResponse {
        guard !bodies.isEmpty else { throw HTTPError(.badRequest, "the array of jobs is empty; send at least one job") }
        guard bodies.count <= JobStore.maximumJobsPerSave else {
            throw HTTPError(.badRequest, "the array holds \(bodies.count) jobs; at most \(JobStore.maximumJobsPerSave) in one request: split it")
        }
        var definitions: [JobDefinition] = []
        definitions.reserveCapacity(bodies.count)
        var indexByID: [String: Int] = [:]
        for (index, body) in bodies.enumerated() {
            guard let object = body.objectValue else {
                throw HTTPError(.badRequest, "[\(index)]: a job must be a JSON object, not \(body.kindDescription)")
            }
            let definition: JobDefinition
            do {
                definition = try JobDefinition.parse(object, handlers: handlers)
            } catch {
                throw HTTPError(.badRequest, "[\(index)]: \(error.message)")
            }
            if let first = indexByID.updateValue(index, forKey: definition.id) {
                throw HTTPError(.badRequest, "[\(index)]: 'job_id' \"\(definition.id)\" is also the id of [\(first)]; each job of the array needs its own id")
            }
            definitions.append(definition)
        }
        let saved = try store.saveAll(definitions, origin: .api)
        let created = saved.filter(\.created).count
        return .json(
            [
                "jobs": .array(saved.map { job in
                    ["job_id": .string(job.id), "created": .bool(job.created), "next_run_time": job.nextRunTime.map { .string($0.iso8601) } ?? .null]
                }),
                "created": .int(Int64(created)), "replaced": .int(Int64(saved.count - created)),
            ],
            status: created > 0 ? .created : .ok)
    }

    /// `POST /jobs/<slug>?periodically=1%20day&...` with the kwargs as the body.
    func createForHandler(_ request: HTTPRequest) throws -> HTTPResponse {
        let handler = try handlers.handler(slug: request.parameter("handler"))
        let fields = JSONObject(Self.scheduleParameters.compactMap { name in request.queryValue(name).map { (name, .string($0)) } })
        return try save(try JobDefinition(handler: handler, kwargs: try request.jsonObjectBody(), fields: fields, handlers: handlers))
    }

    private func save(_ definition: JobDefinition) throws -> HTTPResponse {
        let (job, created) = try store.save(definition, origin: .api)
        return .json(["job": job.json], status: created ? .created : .ok)
    }

    /// `GET /jobs/{job_id}` → `{"job": ..., "recent_runs": [...]}`.
    func show(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.parameter("job_id")
        guard let (job, runs) = try store.jobWithRecentRuns(id, recentRuns: Self.recentRuns) else { throw Self.noSuchJob(id) }
        return .json(reservingCapacity: 2048 + 512 * runs.count) { members in
            members.member("job") { job.writeMembers(into: &$0) }
            members.member("recent_runs", objects: runs) { run, members in run.writeMembers(into: &members) }
        }
    }

    /// `PUT /jobs/{job_id}?state=paused|running` → `{"job_id": ..., "state": ...}`.
    func setState(_ request: HTTPRequest) throws -> HTTPResponse {
        let state: JobState = try request.choice("state", excluding: [.finished])
        let id = request.parameter("job_id")
        guard let job = try store.setState(of: id, to: state) else { throw Self.noSuchJob(id) }
        return .json(["job_id": .string(job.id), "state": .string(job.state.rawValue)])
    }

    /// `DELETE /jobs/{job_id}` → `{"removed": [job_id]}`.
    func delete(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.parameter("job_id")
        guard try store.delete(id) else { throw Self.noSuchJob(id) }
        return .json(["removed": [.string(id)]])
    }

    /// `DELETE /jobs/clean-failed` → `{"removed": [...]}`.
    func cleanFailed(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(["removed": .array(try store.cleanFailed().map(JSONValue.string))])
    }

    /// `POST /jobs/{job_id}/run` → `201 {"run": ...}`: fired once now, schedule untouched.
    func runNow(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.parameter("job_id")
        guard let run = try share.run({ try firer.runNow(id) }) else { throw Self.noSuchJob(id) }
        return .json(["run": run.json], status: .created)
    }

    /// `GET /jobs/{job_id}/runs?limit=&offset=` → `{"runs": [...], "runs_count": N}`, newest first.
    func runs(_ request: HTTPRequest) throws -> HTTPResponse {
        let limit = try request.integer("limit", fallback: 100, range: 1...1000)
        let offset = try request.integer("offset", fallback: 0, range: 0...Int(Int32.max))
        let job = try existingJob(request.parameter("job_id"))
        let (runs, total) = try store.runs(of: job.id, limit: limit, offset: offset)
        return .json(reservingCapacity: 512 * runs.count + 64) { members in
            members.member("runs", objects: runs) { run, members in run.writeMembers(into: &members) }
            members.member("runs_count", Int64(total))
        }
    }

    private func existingJob(_ id: String) throws -> Job {
        guard let job = try store.job(id) else { throw Self.noSuchJob(id) }
        return job
    }

    static func noSuchJob(_ id: String) -> HTTPError { HTTPError(.notFound, "no job with job_id \"\(id)\"") }
}
