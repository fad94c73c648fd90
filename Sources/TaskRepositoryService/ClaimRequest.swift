import DatabaseLayer

/// Body of claim-by-id (`worker_id`, `lease_seconds`) and claim-next (also `task_type`, `service`).
struct ClaimRequest: Decodable, Sendable {
    var workerID: String
    var leaseSeconds: Int
    var taskType: String?
    var service: String?

    /// The wire names.
    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case leaseSeconds = "lease_seconds"
        case taskType = "task_type"
        case service
    }

    /// Claim-by-id names its task in the path, so queue filters would mean nothing there and are unknown.
    static let byIDRules = JSONBodyRules(allowed: ["worker_id", "lease_seconds"])
    /// Claim-next may narrow the queue.
    static let nextRules = JSONBodyRules(allowed: ["worker_id", "lease_seconds", "task_type", "service"])

    /// The request after checking the worker id, the lease and the filters.
    func validated() throws(TaskError) -> ClaimRequest {
        var checked = self
        checked.workerID = try TaskValidation.identifier(self.workerID, field: "worker_id")
        checked.leaseSeconds = try TaskValidation.leaseSeconds(self.leaseSeconds)
        checked.taskType = try self.taskType.map { value throws(TaskError) in try TaskValidation.identifier(value, field: "task_type") }
        checked.service = try self.service.map { value throws(TaskError) in try TaskValidation.identifier(value, field: "service") }
        return checked
    }

    /// The queue filter of claim-next.
    var filter: TaskQueueFilter { TaskQueueFilter(taskType: self.taskType, service: self.service) }
}
