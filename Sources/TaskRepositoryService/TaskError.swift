/// Why a task operation could not be done, in domain terms; `TaskError+HTTPResponseError.swift` maps it to HTTP.
///
/// The repository and the validation throw it, so neither knows about status codes, and a second backend
/// (or the contract tests) can assert on the case rather than on a rendered problem.
enum TaskError: Error, Sendable, Equatable {
    /// No task with this id in the caller's scope (another tenant's task is indistinguishable from none).
    case notFound(taskID: String)
    /// The task exists but is not in a state that allows the operation (claimed elsewhere, not pending, stale token).
    case conflict(String)
    /// A body or query value is out of range or malformed; the text names the field, never its value.
    case invalidInput(String)
    /// A query parameter is not one the list accepts.
    case invalidQuery(String)
    /// The `{task_id}` path segment is not a UUID.
    case invalidTaskID
    /// The `claim_token` is not the shape claim hands out.
    case invalidClaimToken
}
