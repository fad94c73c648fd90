import DatabaseLayer
import Foundation

/// The task queue's storage operations, as the routes use them. Every operation is confined to `scope`; a task
/// outside it is ``TaskError/notFound(taskID:)``. State changes are atomic per task: a claim, heartbeat,
/// completion or failure either applies to the state it expects or throws ``TaskError/conflict(_:)`` and
/// changes nothing. `now` is a parameter so the contract tests can move time instead of sleeping.
protocol TaskRepository: Sendable {
    /// Stores a new task; with an `idempotency_key` already used in its scope, returns that first task instead.
    /// - Returns: the stored task, and whether it was created by this call.
    func create(_ task: TaskItem) async throws -> (task: TaskItem, created: Bool)

    /// One task in scope.
    func get(_ taskID: String, scope: TaskScope) async throws -> TaskItem

    /// A page in queue order (priority desc, created_at, task_id): with `status`, every task in that state;
    /// without it, the ready queue (due `pending` tasks and expired leases with attempts left).
    func list(scope: TaskScope, status: TaskStatus?, filter: TaskQueueFilter, page: PageRequest, now: Date) async throws -> Page<TaskItem>

    /// Applies client-owned changes to a task that is still `pending`.
    func update(_ taskID: String, scope: TaskScope, changes: TaskChanges, now: Date) async throws -> TaskItem

    /// Deletes a task in scope.
    func delete(_ taskID: String, scope: TaskScope) async throws

    /// Claims this task for `worker` if it is ready (due pending, or an expired lease with attempts left).
    func claim(_ taskID: String, scope: TaskScope, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskItem

    /// Claims the next ready task: due pending tasks in queue order first, then expired leases; nil when none.
    func claimNext(scope: TaskScope, filter: TaskQueueFilter, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskItem?

    /// Extends the lease of the task `token` holds.
    func heartbeat(_ taskID: String, scope: TaskScope, token: String, leaseSeconds: Int, now: Date) async throws -> TaskItem

    /// Marks the task `token` holds completed with `result`.
    func complete(_ taskID: String, scope: TaskScope, token: String, result: JSONValue?, now: Date) async throws -> TaskItem

    /// Records a failure of the task `token` holds: back to `pending` after a backoff when `retryable` and
    /// attempts remain, otherwise `failed`.
    func fail(_ taskID: String, scope: TaskScope, token: String, error: String, retryable: Bool, now: Date) async throws -> TaskItem

    /// How many tasks are ready at `now`, across every scope (the queue-depth gauge).
    func readyCount(now: Date) async throws -> Int
}
