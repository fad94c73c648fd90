import DatabaseLayer
import Foundation

/// A task's lifecycle state; it moves only through create, claim, complete and fail.
enum TaskStatus: String, Codable, Sendable, CaseIterable {
    case pending, claimed, completed, failed
}

/// One recorded failure, kept in the task's `errors` history.
struct TaskFailure: Codable, Sendable, Equatable {
    /// The attempt (claim number) that failed.
    var attempt: Int
    /// What the worker reported.
    var error: String
    /// Whether the worker asked for a retry.
    var retryable: Bool
    /// When the failure was recorded.
    var at: Date
}

/// A task as stored in MongoDB. Clients see it through ``TaskResponse``, which hides the internal counter and
/// the claim token; server-owned fields are never taken from a request (see ``TaskItem/serverOwnedKeys``).
struct TaskItem: Codable, Sendable, Equatable {
    var taskID: String
    var tenantID: String?
    var taskType: String
    var request: JSONObject
    var template: JSONObject
    var tags: [String: String]
    var priority: Int
    var runAfter: Date
    var maxAttempts: Int
    var idempotencyKey: String?
    var status: TaskStatus
    var attempts: Int
    /// `max_attempts - attempts`, stored so that queries can test it without `$expr`.
    var attemptsRemaining: Int
    var claimedBy: String?
    var claimToken: String?
    var leaseExpiresAt: Date?
    var result: JSONValue?
    var errors: [TaskFailure]
    var createdAt: Date
    var updatedAt: Date
    var completedAt: Date?

    /// The stored (and wire) field names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case taskID = "task_id"
        case tenantID = "tenant_id"
        case taskType = "task_type"
        case request, template, tags, priority
        case runAfter = "run_after"
        case maxAttempts = "max_attempts"
        case idempotencyKey = "idempotency_key"
        case status, attempts
        case attemptsRemaining = "attempts_remaining"
        case claimedBy = "claimed_by"
        case claimToken = "claim_token"
        case leaseExpiresAt = "lease_expires_at"
        case result, errors
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case completedAt = "completed_at"
    }

    /// Every field name of a task: a body key outside this set is unknown, inside it but not client-settable
    /// it is server-owned (``JSONBodyRules`` answers `unknown_field` and `read_only_field` respectively).
    static let allKeys: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    /// The task's fields a body may not set when only `clientKeys` are writable.
    static func serverOwnedKeys(writable clientKeys: Set<String>) -> Set<String> {
        self.allKeys.subtracting(clientKeys)
    }

    /// The keyset cursor of this task in queue order (see ``MongoTaskRepository/queueKeyset``).
    var queueCursor: PageCursor {
        PageCursor(values: [.int(Int64(self.priority)), .date(self.createdAt), .string(self.taskID)])
    }
}
