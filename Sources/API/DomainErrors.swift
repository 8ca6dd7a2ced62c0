import FilterQuery
import HTTPServer
import Jobs
import Postgres

/// Maps what the job layer throws to the API's statuses: a bad definition or filter is 400, a conflict
/// with a job's state 409, a database that cannot be reached 503. Anything else stays a 500
/// that names only the request id.
func answeringDomainErrors(_ handler: @escaping HTTPHandler) -> HTTPHandler {
    { request in
        do {
            return try handler(request)
        } catch let error as JobDefinitionError {
            throw HTTPError(.badRequest, error.message)
        } catch let error as FilterError {
            throw HTTPError(.badRequest, error.description)
        } catch let error as FilterExecutionError {
            throw HTTPError(.badRequest, error.message)
        } catch let error as JobConflictError {
            throw HTTPError(.conflict, error.message)
        } catch let error as PostgresError {
            switch error.kind {
            case .connect, .connectionLost, .poolTimeout, .poolClosed:
                throw HTTPError(.serviceUnavailable, "the database is unavailable; try again shortly")
            case .invalidParameter:
                throw HTTPError(.badRequest, error.message)
            // Class 22, data exceptions: a value the client sent that PostgreSQL cannot store,
            // such as a JSON string holding \u0000.
            case .server where error.sqlState?.hasPrefix("22") == true:
                throw HTTPError(.badRequest, "a value was refused by the database: \(error.message)")
            default:
                throw error
            }
        }
    }
}
