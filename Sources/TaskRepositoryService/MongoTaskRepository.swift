import DatabaseLayer
import Foundation

/// Who may see a task: one tenant's tasks, or (without `X-Tenant-ID`) only tasks created without a tenant.
/// Every query the repository builds starts from this, so one tenant can never read, claim or delete another's.
struct TaskScope: Sendable {
    var tenant: TenantID?

    /// The equality that confines a query to this scope.
    var filter: JSONObject {
        if let tenant { return ["tenant_id": ["$eq": .string(tenant.rawValue)]] }
        return ["tenant_id": ["$exists": false]]
    }
}

/// Filters for the ready queue and claim-next.
struct TaskQueueFilter: Sendable {
    var taskType: String?
    var service: String?
    /// Narrows to one task (claim by id).
    var taskID: String?
}

/// Retry delays: exponential in the attempt number, capped, with jitter so that tasks failed together do not
/// all come back at the same instant.
struct RetryPolicy: Sendable {
    var base: Duration
    var cap: Duration

    /// The delay before the next attempt after `attempt` (1-based) failed: half fixed, half random.
    func delay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let full = min(self.cap.seconds, self.base.seconds * pow(2, Double(exponent)))
        return .milliseconds(Int64((full / 2 + Double.random(in: 0...(full / 2))) * 1000))
    }
}

/// Why a task operation did nothing, for the handler to turn into 404 or 409.
enum TaskOutcome<Value: Sendable>: Sendable {
    case done(Value)
    case notFound
    case conflict(String)
}

/// The task queue in one MongoDB collection. State changes are single conditional `findAndModify` calls, so the
/// document itself arbitrates between concurrent workers: a claim, completion or failure either matches the
/// state it expects and applies, or matches nothing and changes nothing.
struct MongoTaskRepository: Sendable {
    let collection: MongoCollection
    let retry: RetryPolicy

    /// Excludes MongoDB's `_id`, which clients never see.
    static let projection: JSONObject = ["_id": 0]
    /// Highest priority first, then oldest, then by id so that ties have a stable order.
    static let queueKeyset = MongoKeyset([.init("priority", ascending: false), .init("created_at"), .init("task_id")])
    /// The queue order as a sort document.
    static let queueOrder: JSONObject = queueKeyset.sort

    /// The indexes of the issue: ready queue, `task_id` unique, `(tenant_id, idempotency_key)` unique where a key exists.
    static let indexes: [MongoIndex] = [
        MongoIndex(name: "task_id_unique", keys: ["task_id": 1], unique: true),
        MongoIndex(name: "ready_queue", keys: ["tenant_id": 1, "status": 1, "priority": -1, "created_at": 1]),
        MongoIndex(name: "expired_leases", keys: ["status": 1, "lease_expires_at": 1]),
        // Partial, not sparse: a sparse compound index still indexes every task that has a tenant_id (DESIGN §7).
        MongoIndex(
            name: "tenant_idempotency_key", keys: ["tenant_id": 1, "idempotency_key": 1], unique: true,
            partialFilter: ["idempotency_key": ["$exists": true]]),
    ]

    /// Creates the indexes if missing.
    func ensureIndexes() async throws {
        try await self.collection.createIndexes(Self.indexes)
    }

    // MARK: Reading

    /// One task in scope.
    func get(_ taskID: String, scope: TaskScope) async throws -> TaskItem? {
        var filter = scope.filter
        filter["task_id"] = ["$eq": .string(taskID)]
        return try await self.collection.findOne(filter, projection: Self.projection).map { try $0.decode(TaskItem.self) }
    }

    /// The queue filter: with a status, every task in that state; without one, the ready queue (pending and due,
    /// or claimed with an expired lease and attempts left).
    func listFilter(scope: TaskScope, status: TaskStatus?, filter: TaskQueueFilter, now: Date) -> JSONObject {
        var common = scope.filter
        if let taskType = filter.taskType { common["task_type"] = ["$eq": .string(taskType)] }
        if let service = filter.service { common["tags.service"] = ["$eq": .string(service)] }
        if let taskID = filter.taskID { common["task_id"] = ["$eq": .string(taskID)] }
        if let status {
            common["status"] = ["$eq": .string(status.rawValue)]
            return common
        }
        // The common equalities are repeated inside each branch: nx-27017 drops the parentheses of a top-level
        // $or that stands beside other fields (DESIGN §6), and the result means the same on real MongoDB.
        var pending = common
        pending["status"] = ["$eq": "pending"]
        pending["run_after"] = ["$lte": .date(now)]
        var expired = common
        expired["status"] = ["$eq": "claimed"]
        expired["lease_expires_at"] = ["$lte": .date(now)]
        expired["attempts_remaining"] = ["$gt": 0]
        return ["$or": [.object(pending), .object(expired)]]
    }

    /// A page of tasks in queue order (up to `page.limit + 1`, see ``Page``).
    func list(scope: TaskScope, status: TaskStatus?, filter: TaskQueueFilter, page: PageRequest, now: Date) async throws -> [TaskItem] {
        try await self.collection.find(
            try Self.queueKeyset.filter(self.listFilter(scope: scope, status: status, filter: filter, now: now), after: page.cursor),
            options: .init(sort: Self.queueOrder, limit: page.limit + 1, projection: Self.projection)
        ).map { try $0.decode(TaskItem.self) }
    }

    /// How many tasks are ready right now, across every scope (for the queue-depth gauge).
    func readyCount(now: Date) async throws -> Int {
        let pending: JSONObject = ["status": ["$eq": "pending"], "run_after": ["$lte": .date(now)]]
        let expired: JSONObject = ["status": ["$eq": "claimed"], "lease_expires_at": ["$lte": .date(now)], "attempts_remaining": ["$gt": 0]]
        return try await self.collection.count(pending) + self.collection.count(expired)
    }

    // MARK: Writing

    /// Inserts a new task; with an idempotency key already used in this scope, returns the first task instead.
    /// - Returns: the task and whether it was created now.
    func create(_ task: TaskItem) async throws -> (TaskItem, created: Bool) {
        if let key = task.idempotencyKey, let existing = try await self.existing(idempotencyKey: key, tenant: task.tenantID) {
            return (existing, false)
        }
        do {
            try await self.collection.insertOne(try JSONObject(encoding: task).removingNulls())
            return (task, true)
        } catch let error as DatabaseError where error.code == .conflict {
            // Two creates with one key raced: the unique index let exactly one in; answer with that one.
            if let key = task.idempotencyKey, let existing = try await self.existing(idempotencyKey: key, tenant: task.tenantID) {
                return (existing, false)
            }
            throw error
        }
    }

    private func existing(idempotencyKey: String, tenant: String?) async throws -> TaskItem? {
        var filter = TaskScope(tenant: tenant.flatMap(TenantID.init)).filter
        filter["idempotency_key"] = ["$eq": .string(idempotencyKey)]
        return try await self.collection.findOne(filter, projection: Self.projection).map { try $0.decode(TaskItem.self) }
    }

    /// The `$set`/`$inc` that hands a task to `worker` for `leaseSeconds`.
    private func claimUpdate(worker: String, leaseSeconds: Int, now: Date) -> JSONObject {
        [
            "$set": [
                "status": "claimed", "claimed_by": .string(worker), "claim_token": .string(UUID().uuidString.lowercased()),
                "lease_expires_at": .date(now.addingTimeInterval(TimeInterval(leaseSeconds))), "updated_at": .date(now),
            ],
            "$inc": ["attempts": 1, "attempts_remaining": -1],
        ]
    }

    /// Claims one task by id if it is ready; otherwise says why not.
    func claim(_ taskID: String, scope: TaskScope, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskOutcome<TaskItem> {
        let filter = self.listFilter(scope: scope, status: nil, filter: TaskQueueFilter(taskID: taskID), now: now)
        if let claimed = try await self.collection.findOneAndUpdate(
            filter, self.claimUpdate(worker: worker, leaseSeconds: leaseSeconds, now: now), projection: Self.projection)
        {
            return .done(try claimed.decode(TaskItem.self))
        }
        guard let current = try await self.get(taskID, scope: scope) else { return .notFound }
        switch current.status {
        case .pending: return .conflict("The task is not due before \(ISO8601.format(current.runAfter)).")
        case .claimed:
            return current.attemptsRemaining > 0
                ? .conflict("The task is claimed by another worker until \(current.leaseExpiresAt.map(ISO8601.format) ?? "its lease ends").")
                : .conflict("The task's lease expired after its last attempt.")
        case .completed, .failed: return .conflict("The task is already \(current.status.rawValue).")
        }
    }

    /// Claims the next ready task in queue order, atomically; nil when none is ready.
    func claimNext(scope: TaskScope, filter: TaskQueueFilter, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskItem? {
        try await self.collection.findOneAndUpdate(
            self.listFilter(scope: scope, status: nil, filter: filter, now: now),
            self.claimUpdate(worker: worker, leaseSeconds: leaseSeconds, now: now),
            sort: Self.queueOrder, projection: Self.projection
        ).map { try $0.decode(TaskItem.self) }
    }

    /// The filter matching a task only while `token` holds it.
    private func heldFilter(_ taskID: String, scope: TaskScope, token: String) -> JSONObject {
        var filter = scope.filter
        filter["task_id"] = ["$eq": .string(taskID)]
        filter["status"] = ["$eq": "claimed"]
        filter["claim_token"] = ["$eq": .string(token)]
        return filter
    }

    /// Explains why a holder-only operation matched nothing.
    private func holderConflict(_ taskID: String, scope: TaskScope) async throws -> TaskOutcome<TaskItem> {
        guard let current = try await self.get(taskID, scope: scope) else { return .notFound }
        if current.status == .claimed { return .conflict("The claim token does not hold this task (another worker claimed it).") }
        return .conflict("The task is \(current.status.rawValue), not claimed.")
    }

    /// Extends the holder's lease.
    func heartbeat(_ taskID: String, scope: TaskScope, token: String, leaseSeconds: Int, now: Date) async throws -> TaskOutcome<TaskItem> {
        let update: JSONObject = ["$set": ["lease_expires_at": .date(now.addingTimeInterval(TimeInterval(leaseSeconds))), "updated_at": .date(now)]]
        if let task = try await self.collection.findOneAndUpdate(self.heldFilter(taskID, scope: scope, token: token), update, projection: Self.projection) {
            return .done(try task.decode(TaskItem.self))
        }
        return try await self.holderConflict(taskID, scope: scope)
    }

    /// Marks the holder's task completed with `result`.
    func complete(_ taskID: String, scope: TaskScope, token: String, result: JSONValue?, now: Date) async throws -> TaskOutcome<TaskItem> {
        var set: JSONObject = ["status": "completed", "completed_at": .date(now), "updated_at": .date(now)]
        if let result { set["result"] = result }
        let update: JSONObject = ["$set": .object(set), "$unset": ["claim_token": "", "lease_expires_at": ""]]
        if let task = try await self.collection.findOneAndUpdate(self.heldFilter(taskID, scope: scope, token: token), update, projection: Self.projection) {
            return .done(try task.decode(TaskItem.self))
        }
        return try await self.holderConflict(taskID, scope: scope)
    }

    /// Records a failure by the holder: back to `pending` after a backoff when retryable with attempts left,
    /// otherwise `failed`. The error history is rewritten whole under the holder's filter (nx-27017 stores a
    /// `$push`ed document as a string), which is safe because only the holder can match that filter.
    func fail(_ taskID: String, scope: TaskScope, token: String, error: String, retryable: Bool, now: Date) async throws -> TaskOutcome<TaskItem> {
        let held = self.heldFilter(taskID, scope: scope, token: token)
        guard let current = try await self.collection.findOne(held, projection: Self.projection).map({ try $0.decode(TaskItem.self) }) else {
            return try await self.holderConflict(taskID, scope: scope)
        }
        let errors = current.errors + [TaskFailure(attempt: current.attempts, error: error, retryable: retryable, at: now)]
        var set: JSONObject = ["errors": .array(try errors.map { .object(try JSONObject(encoding: $0)) }), "updated_at": .date(now)]
        if retryable && current.attemptsRemaining > 0 {
            set["status"] = "pending"
            set["run_after"] = .date(now.addingTimeInterval(self.retry.delay(afterAttempt: current.attempts).seconds))
        } else {
            set["status"] = "failed"
            set["completed_at"] = .date(now)
        }
        var filter = held
        filter["attempts"] = ["$eq": .int(Int64(current.attempts))]
        let update: JSONObject = ["$set": .object(set), "$unset": ["claim_token": "", "lease_expires_at": ""]]
        if let task = try await self.collection.findOneAndUpdate(filter, update, projection: Self.projection) {
            return .done(try task.decode(TaskItem.self))
        }
        return try await self.holderConflict(taskID, scope: scope)
    }

    /// Applies client-owned changes to a pending task. The update is conditional on the task still being pending
    /// with the attempts it read, so a claim that lands in between wins and this returns a conflict instead of
    /// editing a running task (and `attempts_remaining` is derived from the right count).
    func update(_ taskID: String, scope: TaskScope, changes: UpdateTaskRequest, now: Date) async throws -> TaskOutcome<TaskItem> {
        guard let current = try await self.get(taskID, scope: scope) else { return .notFound }
        guard current.status == .pending else { return .conflict("Only pending tasks can be changed; this one is \(current.status.rawValue).") }
        var set: JSONObject = ["updated_at": .date(now)]
        if let request = changes.request { set["request"] = .object(request) }
        if let template = changes.template { set["template"] = .object(template) }
        if let tags = changes.tags { set["tags"] = .object(try JSONObject(encoding: tags)) }
        if let priority = changes.priority { set["priority"] = .int(Int64(priority)) }
        if let runAfter = changes.runAfter { set["run_after"] = .date(runAfter) }
        if let maxAttempts = changes.maxAttempts {
            guard maxAttempts > current.attempts else {
                return .conflict("max_attempts must exceed the \(current.attempts) attempts already made.")
            }
            set["max_attempts"] = .int(Int64(maxAttempts))
            set["attempts_remaining"] = .int(Int64(maxAttempts - current.attempts))
        }
        var filter = scope.filter
        filter["task_id"] = ["$eq": .string(taskID)]
        filter["status"] = ["$eq": "pending"]
        filter["attempts"] = ["$eq": .int(Int64(current.attempts))]
        if let task = try await self.collection.findOneAndUpdate(filter, ["$set": .object(set)], projection: Self.projection) {
            return .done(try task.decode(TaskItem.self))
        }
        return .conflict("The task changed while it was being updated; read it again.")
    }

    /// Deletes a task in scope; false when there was none.
    func delete(_ taskID: String, scope: TaskScope) async throws -> Bool {
        var filter = scope.filter
        filter["task_id"] = ["$eq": .string(taskID)]
        return try await self.collection.deleteOne(filter) == 1
    }
}

extension JSONObject {
    /// The object without `null` members, so absent optionals are stored absent (nx-27017 cannot count `null`s,
    /// and a missing `tenant_id` is what scopes tenant-less tasks).
    func removingNulls() -> JSONObject {
        JSONObject(self.members.filter { $0.value != .null }.map { ($0.key, $0.value) })
    }
}
