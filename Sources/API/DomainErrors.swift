import FilterQuery
import HTTPServer
import Jobs

/// Maps what the job layer throws to the API's statuses: a bad definition or filter is 400, a
/// conflict with a job's state 409, a database that cannot be reached 503, a value it refuses
/// 400 (as the store classifies them, ``StoreFailure``). Anything else stays a 500 that names
/// only the request id.
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
        } catch let error as OutputTooLarge {
            throw HTTPError(.badRequest, error.description)
        } catch let error as JobConflictError {
            throw HTTPError(.conflict, error.message)
        } catch {
            switch StoreFailure(error) {
            case .unavailable(let reason): throw HTTPError(.serviceUnavailable, "\(reason); try again shortly")
            case .refusedValue(let message): throw HTTPError(.badRequest, message)
            case nil: throw error
            }
        }
    }
}
