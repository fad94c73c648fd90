import DatabaseLayer

/// Who may see a task: one tenant's tasks, or (without `X-Tenant-ID`) only tasks created without a tenant.
/// Every query the repository builds starts from this, so one tenant can never read, claim or delete another's.
struct TaskScope: Sendable, Equatable {
    /// The caller's tenant; nil for tenant-less callers.
    var tenant: TenantID?

    /// The equality that confines a query to this scope.
    var filter: JSONObject {
        if let tenant { return ["tenant_id": ["$eq": .string(tenant.rawValue)]] }
        return ["tenant_id": ["$exists": false]]
    }
}

/// Filters for the ready queue and claim-next.
struct TaskQueueFilter: Sendable, Equatable {
    /// Only tasks of this `task_type`.
    var taskType: String?
    /// Only tasks whose `tags.service` is this.
    var service: String?

    /// The filter's equalities added to `filter`.
    func narrowing(_ filter: JSONObject) -> JSONObject {
        var filter = filter
        if let taskType = self.taskType { filter["task_type"] = ["$eq": .string(taskType)] }
        if let service = self.service { filter["tags.service"] = ["$eq": .string(service)] }
        return filter
    }
}
