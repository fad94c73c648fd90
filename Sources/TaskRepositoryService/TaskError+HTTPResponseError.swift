import DatabaseLayer
import HTTPTypes

/// The one place the task domain meets HTTP: each case's status, stable code and client-safe detail.
extension TaskError: ProblemError {
    /// 404 for a missing task, 409 for a state conflict, 400 for bad input.
    var status: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .conflict: .conflict
        case .invalidInput, .invalidQuery, .invalidTaskID, .invalidClaimToken: .badRequest
        }
    }

    /// The codes the OpenAPI description lists; unchanged from the handlers' earlier `APIError`s.
    var problemCode: String {
        switch self {
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .invalidInput: "invalid_input"
        case .invalidQuery: "invalid_query"
        case .invalidTaskID: "invalid_task_id"
        case .invalidClaimToken: "invalid_claim_token"
        }
    }

    /// What the client reads; built only from ids and fixed text, never from stored values.
    var problemDetail: String {
        switch self {
        case .notFound(let taskID): "No task \(taskID) for this tenant."
        case .conflict(let detail), .invalidInput(let detail), .invalidQuery(let detail): detail
        case .invalidTaskID: "task_id must be a UUID."
        case .invalidClaimToken: "claim_token must be the token returned by claim."
        }
    }
}
