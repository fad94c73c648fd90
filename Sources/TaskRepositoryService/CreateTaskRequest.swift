import DatabaseLayer
import Foundation

/// `POST /api/v1/tasks`: the client-owned fields of a new task.
struct CreateTaskRequest: Decodable, Sendable {
    var taskType: String
    var request: JSONObject?
    var template: JSONObject?
    var tags: [String: String]?
    var priority: Int?
    /// `run_after`, of exactly the form the API description admits (see ``TaskTimestamp``).
    var runAfter: TaskTimestamp?
    var maxAttempts: Int?
    var idempotencyKey: String?

    /// The wire names; all of them are writable at creation.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case taskType = "task_type"
        case request, template, tags, priority
        case runAfter = "run_after"
        case maxAttempts = "max_attempts"
        case idempotencyKey = "idempotency_key"
    }

    /// The body rules: these keys only; every other task field is server-owned (`read_only_field`); anything
    /// else is `unknown_field`; `request` and `template` may not carry operator or dotted keys at any depth.
    static let rules: JSONBodyRules = {
        let writable = Set(CodingKeys.allCases.map(\.rawValue))
        return JSONBodyRules(allowed: writable, serverOwned: TaskItem.serverOwnedKeys(writable: writable))
    }()

    /// The new pending task this request describes, after checking every value.
    /// - Parameters:
    ///   - tenant: the caller's tenant (from `X-Tenant-ID`), stored as `tenant_id`.
    ///   - now: creation time; also the default `run_after`.
    func task(tenant: TenantID?, now: Date) throws(TaskError) -> TaskItem {
        let maxAttempts = try TaskValidation.maxAttempts(self.maxAttempts ?? 3)
        return TaskItem(
            taskID: UUID().lowercasedText,
            tenantID: tenant?.rawValue,
            taskType: try TaskValidation.identifier(self.taskType, field: "task_type"),
            request: self.request ?? [:],
            template: self.template ?? [:],
            tags: try TaskValidation.tags(self.tags ?? [:]),
            priority: try TaskValidation.priority(self.priority ?? 0),
            runAfter: self.runAfter?.date ?? now,
            maxAttempts: maxAttempts,
            idempotencyKey: try self.idempotencyKey.map { key throws(TaskError) in try TaskValidation.identifier(key, field: "idempotency_key") },
            status: .pending,
            attempts: 0,
            attemptsRemaining: maxAttempts,
            claimedBy: nil,
            claimToken: nil,
            leaseExpiresAt: nil,
            result: nil,
            errors: [],
            createdAt: now,
            updatedAt: now,
            completedAt: nil
        )
    }
}
