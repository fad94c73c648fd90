import DatabaseLayer
import Foundation

/// Claims and the holder-only operations: each is one conditional findAndModify per attempt.
extension MongoTaskRepository {
    /// The `$set`/`$inc` that hands a task to `worker` for `leaseSeconds`.
    private func claimUpdate(worker: String, leaseSeconds: Int, now: Date) -> JSONObject {
        [
            "$set": [
                "status": "claimed", "claimed_by": .string(worker), "claim_token": .string(UUID().lowercasedText),
                "lease_expires_at": .date(now.addingTimeInterval(TimeInterval(leaseSeconds))), "updated_at": .date(now),
            ],
            "$inc": ["attempts": 1, "attempts_remaining": -1],
        ]
    }

    /// Claims one task by id if it is ready; otherwise throws why not. The two ready states are tried one after
    /// the other (see ``readyBranches(_:now:)``); each try is atomic, and a task is in at most one of them.
    func claim(_ taskID: String, scope: TaskScope, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskItem {
        let update = self.claimUpdate(worker: worker, leaseSeconds: leaseSeconds, now: now)
        for branch in Self.readyBranches(Self.taskFilter(taskID, scope: scope), now: now) {
            if let claimed = try await self.collection.findOneAndUpdate(branch, update, projection: Self.projection, as: TaskItem.self) {
                return claimed
            }
        }
        let current = try await self.get(taskID, scope: scope)
        switch current.status {
        case .pending: throw TaskError.conflict("The task is not due before \(ISO8601.format(current.runAfter)).")
        case .claimed:
            throw current.attemptsRemaining > 0
                ? TaskError.conflict("The task is claimed by another worker until \(current.leaseExpiresAt.map(ISO8601.format) ?? "its lease ends").")
                : TaskError.conflict("The task's lease expired after its last attempt.")
        case .completed, .failed: throw TaskError.conflict("The task is already \(current.status.rawValue).")
        }
    }

    /// Claims the next ready task: the first due pending task in queue order, else the first expired lease in
    /// queue order; nil when neither exists. Each attempt is one sorted findAndModify on one index-friendly
    /// conjunction, so two workers never get the same task.
    func claimNext(scope: TaskScope, filter: TaskQueueFilter, worker: String, leaseSeconds: Int, now: Date) async throws -> TaskItem? {
        let update = self.claimUpdate(worker: worker, leaseSeconds: leaseSeconds, now: now)
        for branch in Self.readyBranches(filter.narrowing(scope.filter), now: now) {
            if let claimed = try await self.collection.findOneAndUpdate(
                branch, update, sort: Self.queueOrder, projection: Self.projection, as: TaskItem.self)
            {
                return claimed
            }
        }
        return nil
    }

    /// The filter matching a task only while `token` holds it.
    private func heldFilter(_ taskID: String, scope: TaskScope, token: String) -> JSONObject {
        var filter = Self.taskFilter(taskID, scope: scope)
        filter["status"] = ["$eq": "claimed"]
        filter["claim_token"] = ["$eq": .string(token)]
        return filter
    }

    /// Why a holder-only operation matched nothing: no such task, or the token does not hold it.
    private func holderConflict(_ taskID: String, scope: TaskScope) async throws -> TaskError {
        let current = try await self.get(taskID, scope: scope)
        if current.status == .claimed { return .conflict("The claim token does not hold this task (another worker claimed it).") }
        return .conflict("The task is \(current.status.rawValue), not claimed.")
    }

    /// Extends the holder's lease.
    func heartbeat(_ taskID: String, scope: TaskScope, token: String, leaseSeconds: Int, now: Date) async throws -> TaskItem {
        let update: JSONObject = ["$set": ["lease_expires_at": .date(now.addingTimeInterval(TimeInterval(leaseSeconds))), "updated_at": .date(now)]]
        return try await self.updateHeld(taskID, scope: scope, token: token, update)
    }

    /// Marks the holder's task completed with `result`.
    func complete(_ taskID: String, scope: TaskScope, token: String, result: JSONValue?, now: Date) async throws -> TaskItem {
        var set: JSONObject = ["status": "completed", "completed_at": .date(now), "updated_at": .date(now)]
        if let result { set["result"] = result }
        let update: JSONObject = ["$set": .object(set), "$unset": ["claim_token": "", "lease_expires_at": ""]]
        return try await self.updateHeld(taskID, scope: scope, token: token, update)
    }

    /// Applies `update` only while `token` holds the task; otherwise says why nothing changed.
    private func updateHeld(_ taskID: String, scope: TaskScope, token: String, _ update: JSONObject) async throws -> TaskItem {
        guard
            let task = try await self.collection.findOneAndUpdate(
                self.heldFilter(taskID, scope: scope, token: token), update, projection: Self.projection, as: TaskItem.self)
        else {
            throw try await self.holderConflict(taskID, scope: scope)
        }
        return task
    }

    /// Records a failure by the holder: back to `pending` after a backoff when retryable with attempts left,
    /// otherwise `failed`.
    ///
    /// The error history is rewritten whole under the holder's filter instead of `$push`ed. TEST-SERVER
    /// WORKAROUND: nx-27017 0.8.1 stores a `$push`ed document as a string. The rewrite is also correct on real
    /// MongoDB (only the holder can match the filter, and `attempts` pins the version read), so it stays.
    func fail(_ taskID: String, scope: TaskScope, token: String, error: String, retryable: Bool, now: Date) async throws -> TaskItem {
        let held = self.heldFilter(taskID, scope: scope, token: token)
        guard let current = try await self.collection.findOne(held, projection: Self.projection, as: TaskItem.self) else {
            throw try await self.holderConflict(taskID, scope: scope)
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
        guard let task = try await self.collection.findOneAndUpdate(filter, update, projection: Self.projection, as: TaskItem.self) else {
            throw try await self.holderConflict(taskID, scope: scope)
        }
        return task
    }
}
