import DatabaseLayer
import Foundation

/// `PUT /api/v1/tasks/{task_id}`: client-owned fields to change; absent means unchanged.
struct TaskChanges: Decodable, Sendable, Equatable {
    var request: JSONObject?
    var template: JSONObject?
    var tags: [String: String]?
    var priority: Int?
    var runAfter: Date?
    var maxAttempts: Int?

    /// The wire names; all of them are writable while pending.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case request, template, tags, priority
        case runAfter = "run_after"
        case maxAttempts = "max_attempts"
    }

    /// The body rules: these keys only; the other task fields (including `task_type` and `idempotency_key`,
    /// fixed at creation) are server-owned (`read_only_field`); anything else is `unknown_field`.
    static let rules: JSONBodyRules = {
        let writable = Set(CodingKeys.allCases.map(\.rawValue))
        return JSONBodyRules(allowed: writable, serverOwned: TaskItem.serverOwnedKeys(writable: writable))
    }()

    /// The changes after checking every value that is present.
    func validated() throws(TaskError) -> TaskChanges {
        if let tags = self.tags { _ = try TaskValidation.tags(tags) }
        if let priority = self.priority { _ = try TaskValidation.priority(priority) }
        if let maxAttempts = self.maxAttempts { _ = try TaskValidation.maxAttempts(maxAttempts) }
        return self
    }
}

extension TaskChanges {
    /// Decodes the body; `run_after` only in the form the API description admits (see ``TaskTimestamp``). An
    /// absent or `null` field is unchanged.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            request: try container.decodeIfPresent(JSONObject.self, forKey: .request),
            template: try container.decodeIfPresent(JSONObject.self, forKey: .template),
            tags: try container.decodeIfPresent([String: String].self, forKey: .tags),
            priority: try container.decodeIfPresent(Int.self, forKey: .priority),
            runAfter: try container.decodeIfPresent(TaskTimestamp.self, forKey: .runAfter)?.date,
            maxAttempts: try container.decodeIfPresent(Int.self, forKey: .maxAttempts)
        )
    }
}
