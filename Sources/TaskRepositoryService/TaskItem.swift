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

/// A task as stored and as returned to clients. Server-owned fields are never taken from a request.
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

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id", tenantID = "tenant_id", taskType = "task_type", request, template, tags, priority
        case runAfter = "run_after", maxAttempts = "max_attempts", idempotencyKey = "idempotency_key", status, attempts
        case attemptsRemaining = "attempts_remaining", claimedBy = "claimed_by", claimToken = "claim_token"
        case leaseExpiresAt = "lease_expires_at", result, errors, createdAt = "created_at", updatedAt = "updated_at"
        case completedAt = "completed_at"
    }

    /// What clients see: everything but the internal counter, and the claim token only for the claimer's own
    /// responses (claim and heartbeat), so listing tasks never hands out the right to finish one.
    func publicView(includeClaimToken: Bool = false) throws -> JSONObject {
        var object = try JSONObject(encoding: self)
        object["attempts_remaining"] = nil
        if !includeClaimToken { object["claim_token"] = nil }
        return object
    }
}

/// Limits on what a client can store in one task.
enum TaskLimits {
    static let priority = -1_000...1_000
    static let maxAttempts = 1...100
    static let leaseSeconds = 1...3_600
    static let maxTags = 32
    static let maxTagLength = 256
    static let maxTextLength = 128
}

/// `POST /api/v1/tasks`: the client-owned fields of a new task.
struct CreateTaskRequest: Decodable, Sendable {
    var taskType: String
    var request: JSONObject?
    var template: JSONObject?
    var tags: [String: String]?
    var priority: Int?
    var runAfter: Date?
    var maxAttempts: Int?
    var idempotencyKey: String?

    enum CodingKeys: String, CodingKey {
        case taskType = "task_type", request, template, tags, priority, runAfter = "run_after", maxAttempts = "max_attempts"
        case idempotencyKey = "idempotency_key"
    }

    /// Every key a create body may carry; anything else (status, attempts, task_id, …) is server-owned.
    static let allowedKeys: Set<String> = ["task_type", "request", "template", "tags", "priority", "run_after", "max_attempts", "idempotency_key"]
}

/// `PUT /api/v1/tasks/{task_id}`: client-owned fields to change; absent means unchanged.
struct UpdateTaskRequest: Decodable, Sendable {
    var request: JSONObject?
    var template: JSONObject?
    var tags: [String: String]?
    var priority: Int?
    var runAfter: Date?
    var maxAttempts: Int?

    enum CodingKeys: String, CodingKey {
        case request, template, tags, priority, runAfter = "run_after", maxAttempts = "max_attempts"
    }

    /// The keys an update may carry.
    static let allowedKeys: Set<String> = ["request", "template", "tags", "priority", "run_after", "max_attempts"]
}

/// Body of claim-by-id and claim-next.
struct ClaimRequest: Decodable, Sendable {
    var workerID: String
    var leaseSeconds: Int
    var taskType: String?
    var service: String?

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id", leaseSeconds = "lease_seconds", taskType = "task_type", service
    }
}

/// Body of heartbeat.
struct HeartbeatRequest: Decodable, Sendable {
    var claimToken: String
    var leaseSeconds: Int

    enum CodingKeys: String, CodingKey {
        case claimToken = "claim_token", leaseSeconds = "lease_seconds"
    }
}

/// Body of complete.
struct CompleteRequest: Decodable, Sendable {
    var claimToken: String
    var result: JSONValue?

    enum CodingKeys: String, CodingKey {
        case claimToken = "claim_token", result
    }
}

/// Body of fail.
struct FailRequest: Decodable, Sendable {
    var claimToken: String
    var error: String
    var retryable: Bool?

    enum CodingKeys: String, CodingKey {
        case claimToken = "claim_token", error, retryable
    }
}

/// Input checks shared by the handlers; each failure is a 400 problem naming the field.
enum TaskValidation {
    /// `task_type`, `worker_id`, `idempotency_key`, tag filters: 1-128 printable ASCII without spaces.
    static func identifier(_ value: String, field: String) throws -> String {
        let bytes = value.utf8
        guard (1...TaskLimits.maxTextLength).contains(bytes.count), bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIError.badRequest("\(field) must be 1-\(TaskLimits.maxTextLength) printable ASCII characters without spaces.")
        }
        return value
    }

    static func leaseSeconds(_ value: Int) throws -> Int { try self.value(value, in: TaskLimits.leaseSeconds, field: "lease_seconds") }
    static func priority(_ value: Int) throws -> Int { try self.value(value, in: TaskLimits.priority, field: "priority") }
    static func maxAttempts(_ value: Int) throws -> Int { try self.value(value, in: TaskLimits.maxAttempts, field: "max_attempts") }

    /// `value` when it lies in `range`, else a 400 naming the field and the range.
    private static func value(_ value: Int, in range: ClosedRange<Int>, field: String) throws -> Int {
        guard range.contains(value) else { throw APIError.badRequest("\(field) must be between \(range.lowerBound) and \(range.upperBound).") }
        return value
    }

    static func tags(_ tags: [String: String]) throws -> [String: String] {
        guard tags.count <= TaskLimits.maxTags else { throw APIError.badRequest("tags may hold at most \(TaskLimits.maxTags) entries.") }
        for (key, value) in tags {
            guard MongoName.isValidCollectionName(key), key.utf8.count <= 64 else {
                throw APIError.badRequest("tag names must be 1-64 letters, digits or underscores, not starting with a digit.")
            }
            guard value.utf8.count <= TaskLimits.maxTagLength else { throw APIError.badRequest("tag values may be at most \(TaskLimits.maxTagLength) bytes.") }
        }
        return tags
    }

    /// Free-form objects (`request`, `template`, `result`) are stored as given, except keys MongoDB would read as
    /// operators or paths, which could turn stored data into query syntax.
    static func document(_ value: JSONValue, field: String) throws {
        switch value {
        case .object(let object):
            for member in object {
                guard !member.key.isEmpty, !member.key.hasPrefix("$"), !member.key.contains("."), !member.key.contains("\u{0}") else {
                    throw APIError.badRequest("\(field) contains a key that is empty, starts with '$' or contains '.'.")
                }
                try document(member.value, field: field)
            }
        case .array(let values):
            for element in values { try document(element, field: field) }
        default:
            return
        }
    }

    static func taskID(_ raw: String) throws -> String {
        guard let uuid = UUID(uuidString: raw) else { throw APIError.badRequest("task_id must be a UUID.", code: "invalid_task_id") }
        return uuid.uuidString.lowercased()
    }

    /// Rejects keys the client may not set, naming them.
    static func onlyKeys(_ allowed: Set<String>, in body: JSONObject) throws {
        let extra = body.keys.filter { !allowed.contains($0) }.sorted()
        guard extra.isEmpty else {
            throw APIError.badRequest("These fields cannot be set by a client: \(extra.joined(separator: ", ")).", code: "read_only_field")
        }
    }
}
