import DatabaseLayer
import Foundation

/// The task queue in one MongoDB collection. State changes are single conditional `findAndModify` calls, so the
/// document itself arbitrates between concurrent workers: a claim, completion or failure either matches the
/// state it expects and applies, or matches nothing and changes nothing.
struct MongoTaskRepository: TaskRepository {
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
            name: "tenant_idempotency_key",
            keys: ["tenant_id": 1, "idempotency_key": 1],
            unique: true,
            partialFilter: ["idempotency_key": ["$exists": true]]
        ),
    ]

    /// Creates the indexes if missing (a startup step: the unique ones are what make claims and creates safe).
    func ensureIndexes() async throws {
        try await self.collection.createIndexes(Self.indexes)
    }

    // MARK: Filters

    /// `scope` narrowed to one task.
    static func taskFilter(_ taskID: String, scope: TaskScope) -> JSONObject {
        var filter = scope.filter
        filter["task_id"] = ["$eq": .string(taskID)]
        return filter
    }

    /// The two ways a task is ready, each a plain conjunction that one index serves: due `pending` tasks
    /// (`ready_queue`), then claimed tasks whose lease expired with attempts left (`expired_leases`).
    ///
    /// Claims try them one after the other instead of as one `$or`: a sorted findAndModify over a top-level
    /// `$or` cost about 15x the single branch on SecantusDB. The order is also the queue's semantics: a due
    /// pending task is handed out before any reclaimable lease (see the service README).
    static func readyBranches(_ common: JSONObject, now: Date) -> [JSONObject] {
        var pending = common
        pending["status"] = ["$eq": "pending"]
        pending["run_after"] = ["$lte": .date(now)]
        var expired = common
        expired["status"] = ["$eq": "claimed"]
        expired["lease_expires_at"] = ["$lte": .date(now)]
        expired["attempts_remaining"] = ["$gt": 0]
        return [pending, expired]
    }

    /// The list filter: with a status, every task in that state; without one, the ready queue as one `$or`
    /// (read-only, so it need not be split; ``MongoKeyset`` pages through it).
    func listFilter(scope: TaskScope, status: TaskStatus?, filter: TaskQueueFilter, now: Date) -> JSONObject {
        var common = filter.narrowing(scope.filter)
        if let status {
            common["status"] = ["$eq": .string(status.rawValue)]
            return common
        }
        // The common equalities are repeated inside each branch rather than beside the $or. TEST-SERVER
        // WORKAROUND (nx-27017 0.8.1 drops the parentheses of a top-level $or that stands beside other fields,
        // DESIGN §6); the repeated form means the same on real MongoDB, so production loses nothing.
        return ["$or": .array(Self.readyBranches(common, now: now).map(JSONValue.object))]
    }

    // MARK: Reading

    /// One task in scope, or nil.
    func find(_ taskID: String, scope: TaskScope) async throws -> TaskItem? {
        try await self.collection.findOne(Self.taskFilter(taskID, scope: scope), projection: Self.projection, as: TaskItem.self)
    }

    /// One task in scope.
    func get(_ taskID: String, scope: TaskScope) async throws -> TaskItem {
        guard let task = try await self.find(taskID, scope: scope) else { throw TaskError.notFound(taskID: taskID) }
        return task
    }

    /// A page of tasks in queue order; reads one row more than the page to know whether another page exists.
    func list(scope: TaskScope, status: TaskStatus?, filter: TaskQueueFilter, page: PageRequest, now: Date) async throws -> Page<TaskItem> {
        let rows = try await self.collection.find(
            try Self.queueKeyset.filter(self.listFilter(scope: scope, status: status, filter: filter, now: now), after: page.cursor),
            options: .init(sort: Self.queueOrder, limit: page.limit + 1, projection: Self.projection),
            as: TaskItem.self
        )
        return Page(rows: rows, request: page) { $0.queueCursor }
    }

    /// How many tasks are ready right now, across every scope (for the queue-depth gauge).
    func readyCount(now: Date) async throws -> Int {
        var total = 0
        for branch in Self.readyBranches([:], now: now) { total += try await self.collection.count(branch) }
        return total
    }

    // MARK: Writing

    /// Inserts a new task; with an idempotency key already used in this scope, returns the first task instead.
    func create(_ task: TaskItem) async throws -> (task: TaskItem, created: Bool) {
        if let key = task.idempotencyKey, let existing = try await self.existing(idempotencyKey: key, tenant: task.tenantID) {
            return (existing, false)
        }
        do {
            // Encoded straight to BSON; absent optionals stay absent, which is what scopes tenant-less tasks.
            try await self.collection.insertOne(task)
            return (task, true)
        } catch let error as DatabaseError where error.code == .conflict {
            // Two creates with one key raced: the unique index let exactly one in; answer with that one.
            if let key = task.idempotencyKey, let existing = try await self.existing(idempotencyKey: key, tenant: task.tenantID) {
                return (existing, false)
            }
            throw error
        }
    }

    /// The task created earlier with `idempotencyKey` in the scope of `tenant`.
    private func existing(idempotencyKey: String, tenant: String?) async throws -> TaskItem? {
        var filter = TaskScope(tenant: tenant.flatMap(TenantID.init)).filter
        filter["idempotency_key"] = ["$eq": .string(idempotencyKey)]
        return try await self.collection.findOne(filter, projection: Self.projection, as: TaskItem.self)
    }

    /// Applies client-owned changes to a pending task. The update is conditional on the task still being pending
    /// with the attempts it read, so a claim that lands in between wins and this throws a conflict instead of
    /// editing a running task (and `attempts_remaining` is derived from the right count).
    func update(_ taskID: String, scope: TaskScope, changes: TaskChanges, now: Date) async throws -> TaskItem {
        let current = try await self.get(taskID, scope: scope)
        guard current.status == .pending else {
            throw TaskError.conflict("Only pending tasks can be changed; this one is \(current.status.rawValue).")
        }
        var set: JSONObject = ["updated_at": .date(now)]
        if let request = changes.request { set["request"] = .object(request) }
        if let template = changes.template { set["template"] = .object(template) }
        if let tags = changes.tags { set["tags"] = .object(JSONObject(tags.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
        if let priority = changes.priority { set["priority"] = .int(Int64(priority)) }
        if let runAfter = changes.runAfter { set["run_after"] = .date(runAfter) }
        if let maxAttempts = changes.maxAttempts {
            guard maxAttempts > current.attempts else {
                throw TaskError.conflict("max_attempts must exceed the \(current.attempts) attempts already made.")
            }
            set["max_attempts"] = .int(Int64(maxAttempts))
            set["attempts_remaining"] = .int(Int64(maxAttempts - current.attempts))
        }
        var filter = Self.taskFilter(taskID, scope: scope)
        filter["status"] = ["$eq": "pending"]
        filter["attempts"] = ["$eq": .int(Int64(current.attempts))]
        guard
            let task = try await self.collection.findOneAndUpdate(
                filter, ["$set": .object(set)], projection: Self.projection, as: TaskItem.self)
        else {
            throw TaskError.conflict("The task changed while it was being updated; read it again.")
        }
        return task
    }

    /// Deletes a task in scope.
    func delete(_ taskID: String, scope: TaskScope) async throws {
        guard try await self.collection.deleteOne(Self.taskFilter(taskID, scope: scope)) == 1 else { throw TaskError.notFound(taskID: taskID) }
    }
}
