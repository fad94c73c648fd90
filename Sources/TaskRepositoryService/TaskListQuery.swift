import DatabaseLayer

/// The query of `GET /api/v1/tasks`: an optional `status`, the queue filters and the page.
struct TaskListQuery: Sendable, Equatable {
    /// Every task in this state; nil for the ready queue.
    var status: TaskStatus?
    /// `task_type` and `service` (tag).
    var filter: TaskQueueFilter
    /// `limit` (clamped to `MAX_PAGE_SIZE`) and `cursor`.
    var page: PageRequest

    /// Parses and checks the query string; unknown parameters are ignored, as browsers and proxies add some.
    init(query: [String: String], maxPageSize: Int) throws {
        if let raw = query["status"] {
            guard let status = TaskStatus(rawValue: raw) else {
                throw TaskError.invalidQuery("status must be one of pending, claimed, completed, failed.")
            }
            self.status = status
        }
        self.filter = TaskQueueFilter(
            taskType: try query["task_type"].map { value throws(TaskError) in try TaskValidation.identifier(value, field: "task_type") },
            service: try query["service"].map { value throws(TaskError) in try TaskValidation.identifier(value, field: "service") }
        )
        self.page = try PageRequest(query: query, maxPageSize: maxPageSize)
    }
}
