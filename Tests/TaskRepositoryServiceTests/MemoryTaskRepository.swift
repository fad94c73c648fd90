import DatabaseLayer
import Foundation

@testable import TaskRepositoryService

/// An in-memory ``TaskRepository`` for the server-free suites: the contract runs against it as well as against
/// MongoDB, which keeps the contract honest about what is semantics and what is MongoDB behaviour.
actor MemoryTaskRepository: TaskRepository {
    /// Every task, by id.
    private var tasks: [String: TaskItem] = [:]
    /// The backoff after retryable failures.
    let retry: RetryPolicy

    /// Creates an empty repository.
    init(retry: RetryPolicy = RetryPolicy(base: .seconds(10), cap: .seconds(40))) {
        self.retry = retry
    }

    /// Whether `task` lies in `scope` (tenant-less tasks only for tenant-less callers).
    private func inScope(_ task: TaskItem, _ scope: TaskScope) -> Bool { task.tenantID == scope.tenant?.rawValue }

    /// Whether `task` is ready at `now`: due pending, or an expired lease with attempts left.
    private func isReady(_ task: TaskItem, now: Date) -> Bool { self.isDuePending(task, now: now) || self.isExpiredLease(task, now: now) }
    /// Due and pending.
    private func isDuePending(_ task: TaskItem, now: Date) -> Bool { task.status == .pending && task.runAfter <= now }
    /// Claimed, lease over, attempts left.
    private func isExpiredLease(_ task: TaskItem, now: Date) -> Bool {
        task.status == .claimed && (task.leaseExpiresAt.map { $0 <= now } ?? false) && task.attemptsRemaining > 0
    }

    /// Queue order: priority desc, created_at, task_id.
    private static func precedes(_ a: TaskItem, _ b: TaskItem) -> Bool {
        (a.priority, b.createdAt, b.taskID) > (b.priority, a.createdAt, a.taskID)
    }

    /// Whether `task` sorts after the cursor's position.
    private static func isAfter(_ task: TaskItem, _ cursor: PageCursor) throws -> Bool {
        guard cursor.values.count == 3, case .int(let priority) = cursor.values[0], case .date(let created) = cursor.values[1],
            case .string(let id) = cursor.values[2]
        else { throw APIError.badRequest("cursor must be the next value of a previous page of this list.", code: "invalid_cursor") }
        // Milliseconds, as MongoDB stores dates and the cursor carries them.
        func milliseconds(_ date: Date) -> Double { (date.timeIntervalSince1970 * 1000).rounded() }
        return (priority, milliseconds(task.createdAt), task.taskID) > (Int64(task.priority), milliseconds(created), id)
    }

    /// The task or `notFound`.
    private func held(_ taskID: String, _ scope: TaskScope) throws -> TaskItem {
        guard let task = self.tasks[taskID], self.inScope(task, scope) else { throw TaskError.notFound(taskID: taskID) }
        return task
    }

    /// The task if `token` holds it, else why not.
    private func holding(_ taskID: String, _ scope: TaskScope, token: String) throws -> TaskItem {
        let task = try self.held(taskID, scope)
        guard task.status == .claimed, task.claimToken == token else {
            throw TaskError.conflict(task.status == .claimed ? "The claim token does not hold this task." : "The task is not claimed.")
        }
        return task
    }

    /// Stores the task unless its key was used in its scope.
    func create(_ task: TaskItem) async throws -> (task: TaskItem, created: Bool) {
        if let key = task.idempotencyKey,
            let existing = self.tasks.values.first(where: { $0.idempotencyKey == key && $0.tenantID == task.tenantID })
        {
            return (existing, false)
        }
        self.tasks[task.taskID] = task
        return (task, true)
    }

    /// The task in scope.
    func get(_ taskID: String, scope: TaskScope) async throws -> TaskItem { try self.held(taskID, scope) }

    /// A page in queue order after the cursor.
    func list(scope: TaskScope, status: TaskStatus?, filter: TaskQueueFilter, page: PageRequest, now: Date) async throws -> Page<TaskItem> {
        var rows = self.tasks.values.filter { task in
            self.inScope(task, scope) && (filter.taskType.map { $0 == task.taskType } ?? true)
                && (filter.service.map { $0 == task.tags["service"] } ?? true)
                && (status.map { $0 == task.status } ?? self.isReady(task, now: now))
        }
        if let cursor = page.cursor { rows = try rows.filter { try Self.isAfter($0, cursor) } }
        return Page(rows: Array(rows.sorted(by: Self.precedes).prefix(page.limit + 1)), request: page) { $0.queueCursor }
    }

    /// Applies changes to a pending task.
    func update(_ taskID: String, scope: TaskScope, changes: TaskChanges, now: Date) async throws -> TaskItem {
        var task = try self.held(taskID, scope)
        guard task.status == .pending else { throw TaskError.conflict("Only pending tasks can be changed.") }
        if let request = changes.request { task.request = request }
        if let template = changes.template { task.template = template }
        if let tags = changes.tags { task.tags = tags }
        if let priority = changes.priority { task.priority = priority }
        if let runAfter = changes.runAfter { task.runAfter = runAfter }
        if let maxAttempts = changes.maxAttempts {
            guard maxAttempts > task.attempts else { throw TaskError.conflict("max_attempts must exceed the attempts already made.") }
            task.maxAttempts = maxAttempts
            task.attemptsRemaining = maxAttempts - task.attempts
        }
        task.updatedAt = now
        self.tasks[taskID] = task
        return task
    }

    /// Removes the task in scope.
    func delete(_ taskID: String, scope: TaskScope) async throws {
        _ = try self.held(taskID, scope)
        self.tasks[taskID] = nil
    }

    /// Hands `task` to `worker`.
    private func hand(_ task: TaskItem, to worker: String, leaseSeconds: Int, now: Date) -> TaskItem {
        var task = task
        task.status = .claimed
        task.claimedBy = worker
        task.claimToken = UUID().uuidString.lowercased()
        task.leaseExpiresAt = now.addingTimeInterval(TimeInterval(leaseSeconds))
        task.updatedAt = now
        task.attempts += 1
        task.attemptsRemaining -= 1
        self.tasks[task.taskID] = task
        return task
    }

    /// Claims the task if ready.
    func claim(_ taskID: String, scope: TaskScope, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskItem {
        let task = try self.held(taskID, scope)
        guard self.isReady(task, now: now) else { throw TaskError.conflict("The task is not ready.") }
        return self.hand(task, to: worker, leaseSeconds: leaseSeconds, now: now)
    }

    /// Claims the first due pending task, else the first expired lease.
    func claimNext(scope: TaskScope, filter: TaskQueueFilter, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskItem? {
        let candidates = self.tasks.values.filter { task in
            self.inScope(task, scope) && (filter.taskType.map { $0 == task.taskType } ?? true)
                && (filter.service.map { $0 == task.tags["service"] } ?? true)
        }
        // The same two steps as MongoTaskRepository: due pending tasks first, then expired leases.
        let next =
            candidates.filter { self.isDuePending($0, now: now) }.sorted(by: Self.precedes).first
            ?? candidates.filter { self.isExpiredLease($0, now: now) }.sorted(by: Self.precedes).first
        return next.map { self.hand($0, to: worker, leaseSeconds: leaseSeconds, now: now) }
    }

    /// Extends the holder's lease.
    func heartbeat(_ taskID: String, scope: TaskScope, token: String, leaseSeconds: Int, now: Date) async throws -> TaskItem {
        var task = try self.holding(taskID, scope, token: token)
        task.leaseExpiresAt = now.addingTimeInterval(TimeInterval(leaseSeconds))
        task.updatedAt = now
        self.tasks[taskID] = task
        return task
    }

    /// Completes the holder's task.
    func complete(_ taskID: String, scope: TaskScope, token: String, result: JSONValue?, now: Date) async throws -> TaskItem {
        var task = try self.holding(taskID, scope, token: token)
        task.status = .completed
        task.completedAt = now
        task.updatedAt = now
        if let result { task.result = result }
        task.claimToken = nil
        task.leaseExpiresAt = nil
        self.tasks[taskID] = task
        return task
    }

    /// Records the holder's failure: retry after the backoff, or final.
    func fail(_ taskID: String, scope: TaskScope, token: String, error: String, retryable: Bool, now: Date) async throws -> TaskItem {
        var task = try self.holding(taskID, scope, token: token)
        task.errors.append(TaskFailure(attempt: task.attempts, error: error, retryable: retryable, at: now))
        if retryable && task.attemptsRemaining > 0 {
            task.status = .pending
            task.runAfter = now.addingTimeInterval(self.retry.delay(afterAttempt: task.attempts).seconds)
        } else {
            task.status = .failed
            task.completedAt = now
        }
        task.updatedAt = now
        task.claimToken = nil
        task.leaseExpiresAt = nil
        self.tasks[taskID] = task
        return task
    }

    /// Ready tasks across every scope.
    func readyCount(now: Date) async throws -> Int { self.tasks.values.filter { self.isReady($0, now: now) }.count }
}
