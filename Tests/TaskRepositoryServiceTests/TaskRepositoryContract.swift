import DatabaseLayer
import Foundation
import Testing

@testable import TaskRepositoryService

/// The semantics every ``TaskRepository`` backend must have, checked through the protocol alone (River's
/// `riverdrivertest.Exercise`). Time is passed as `now`, so leases and backoff are tested without sleeping.
///
/// Each check works in its own fresh tenant, so the checks do not see each other's tasks.
struct TaskRepositoryContract {
    /// Whether `count` on the store compares dates that update operators wrote (`lease_expires_at`, `run_after`
    /// after a retry). False for nx-27017 0.8.1; see ``countingUpdatedDates(_:_:)``.
    var countsUpdatedDates: Bool
    /// The backend's name, for messages.
    var backend: String

    /// The moment the checks start from, whole seconds so that stored dates compare equal after a round trip.
    let start = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

    /// Runs every check against `repository`.
    ///
    /// Lease expiry and backoff run on every backend, nx-27017 included: nx-27017 0.8.1 stores a date written by
    /// `$set` as a string (`2026-01-01 12:00:10`), but its `find` and `findAndModify`, which are all the queue's
    /// claims and lists use, still compare such a string correctly with a date. Only its `count` does not.
    func exercise(_ repository: some TaskRepository) async throws {
        try await self.createAndGet(repository)
        try await self.idempotentCreate(repository)
        try await self.updateOnlyWhilePending(repository)
        try await self.claimExactlyOnce(repository)
        try await self.holderOnly(repository)
        try await self.retryToPendingAndFinalFailure(repository)
        try await self.tenantIsolation(repository)
        try await self.listOrderAndPaging(repository)
        try await self.leaseExpiry(repository)
        try await self.backoffThenFinalFailure(repository)
        // Last: it counts across every scope, so no other check may add tasks while it runs.
        await self.countingUpdatedDates("the ready count includes expired leases") { try await self.readyCount(repository) }
    }

    /// Runs a check whose `count` compares dates written by update operators.
    ///
    /// KNOWN TEST-SERVER LIMITATION, NOT SKIPPED SILENTLY: nx-27017 0.8.1 stores a date written by `$set` as a
    /// string and its `count` never matches such a string against a date, so an expired lease (or a retried
    /// task's `run_after`) is missing from ``TaskRepository/readyCount(now:)`` there. On nx-27017 the check runs
    /// inside `withKnownIssue`: its failure is reported as a known issue, and if nx-27017 ever starts passing it
    /// the run fails ("known issue was not recorded"), so this exemption cannot outlive the bug. Only the
    /// `tasks_ready` gauge depends on it; production runs on MongoDB, and SecantusDB runs the check normally.
    func countingUpdatedDates(_ name: String, _ check: () async throws -> Void) async {
        if self.countsUpdatedDates {
            do { try await check() } catch { Issue.record(error, "\(self.backend): \(name)") }
        } else {
            await withKnownIssue("\(self.backend) cannot count dates written by update operators: \(name)") {
                try await check()
            }
        }
    }

    // MARK: Helpers

    /// A fresh tenant scope.
    func freshScope() throws -> TaskScope {
        let raw = "t-" + String(UUID().uuidString.lowercased().prefix(12))
        let tenant: TenantID = try #require(TenantID(raw))
        return TaskScope(tenant: tenant)
    }

    /// A new pending task in `scope`, created at `start + offset` seconds.
    func newTask(
        _ scope: TaskScope,
        type: String = "JOB",
        priority: Int = 0,
        maxAttempts: Int = 3,
        key: String? = nil,
        at offset: TimeInterval = 0
    ) throws -> TaskItem {
        try CreateTaskRequest(taskType: type, request: ["n": .int(Int64(offset))], priority: priority, maxAttempts: maxAttempts, idempotencyKey: key)
            .task(tenant: scope.tenant, now: self.start.addingTimeInterval(offset))
    }

    /// Asserts that `operation` throws exactly `expected` (compared by case, conflict texts aside).
    func expectError(_ expected: TaskError, _ comment: Comment, _ operation: () async throws -> Void) async {
        do {
            try await operation()
            Issue.record("\(self.backend): expected \(expected), got success: \(comment)")
        } catch let error as TaskError {
            switch (expected, error) {
            case (.conflict, .conflict): break
            default: #expect(error == expected, "\(self.backend): \(comment)")
            }
        } catch {
            Issue.record(error, "\(self.backend): expected \(expected): \(comment)")
        }
    }

    // MARK: Checks

    /// A created task reads back unchanged, in its scope only.
    func createAndGet(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let task = try self.newTask(scope, priority: 7)
        let (stored, created) = try await repository.create(task)
        #expect(created)
        #expect(stored == task)
        #expect(try await repository.get(task.taskID, scope: scope) == task, "\(self.backend): read back unchanged")
        await self.expectError(.notFound(taskID: task.taskID), "a tenant-less caller does not see it") {
            _ = try await repository.get(task.taskID, scope: TaskScope(tenant: nil))
        }
        let missing = UUID().uuidString.lowercased()
        await self.expectError(.notFound(taskID: missing), "unknown id") { _ = try await repository.get(missing, scope: scope) }
        try await repository.delete(task.taskID, scope: scope)
        await self.expectError(.notFound(taskID: task.taskID), "deleted") { try await repository.delete(task.taskID, scope: scope) }
    }

    /// A reused key answers with the first task; keys are per tenant; keyless tasks never collide.
    func idempotentCreate(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let first = try await repository.create(try self.newTask(scope, key: "order-42"))
        let again = try await repository.create(try self.newTask(scope, key: "order-42", at: 1))
        #expect(first.created && !again.created)
        #expect(again.task == first.task, "\(self.backend): the first task, unchanged")
        #expect(try await repository.create(try self.newTask(self.freshScope(), key: "order-42")).created, "keys are per tenant")
        #expect(try await repository.create(try self.newTask(scope)).created)
        #expect(try await repository.create(try self.newTask(scope)).created, "keyless tasks never collide")
        let racers = try await withThrowingTaskGroup(of: (task: TaskItem, created: Bool).self) { group in
            for index in 0..<8 { group.addTask { try await repository.create(try self.newTask(scope, key: "race", at: Double(index))) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(racers.filter(\.created).count == 1, "\(self.backend): exactly one racer creates")
        #expect(Set(racers.map(\.task.taskID)).count == 1, "every racer gets the same task")
    }

    /// Client changes apply to pending tasks only.
    func updateOnlyWhilePending(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let task = try await repository.create(try self.newTask(scope)).task
        let later = self.start.addingTimeInterval(1)
        let updated = try await repository.update(task.taskID, scope: scope, changes: TaskChanges(tags: ["service": "x"], priority: 9), now: later)
        #expect(updated.priority == 9 && updated.tags == ["service": "x"] && updated.status == .pending)
        _ = try await repository.claim(task.taskID, scope: scope, worker: "w", leaseSeconds: 30, now: later)
        await self.expectError(.conflict(""), "a claimed task cannot be edited") {
            _ = try await repository.update(task.taskID, scope: scope, changes: TaskChanges(priority: 1), now: later)
        }
    }

    /// Of many concurrent claimers exactly one wins a task; claim-next never hands one task to two workers.
    func claimExactlyOnce(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let task = try await repository.create(try self.newTask(scope)).task
        let now = self.start.addingTimeInterval(1)
        let outcomes = await withTaskGroup(of: Result<TaskItem, any Error>.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    do {
                        return .success(try await repository.claim(task.taskID, scope: scope, worker: "w\(worker)", leaseSeconds: 30, now: now))
                    } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1, "\(self.backend): one claim wins")
        for case .failure(let error) in outcomes {
            guard case .conflict = error as? TaskError else {
                Issue.record(error, "\(self.backend): a losing claim is a conflict")
                continue
            }
        }
        let winner = try #require(winners.first)
        #expect(winner.status == .claimed && winner.attempts == 1 && winner.attemptsRemaining == 2 && winner.claimToken != nil)
        #expect(winner.leaseExpiresAt == now.addingTimeInterval(30))

        let queue = try self.freshScope()
        for index in 0..<3 { _ = try await repository.create(try self.newTask(queue, at: Double(index))) }
        let due = self.start.addingTimeInterval(5)
        let claimed = try await withThrowingTaskGroup(of: TaskItem?.self) { group in
            for worker in 0..<8 {
                group.addTask { try await repository.claimNext(scope: queue, filter: .init(), worker: "w\(worker)", leaseSeconds: 30, now: due) }
            }
            return try await group.reduce(into: [TaskItem]()) { if let task = $1 { $0.append(task) } }
        }
        #expect(claimed.count == 3, "\(self.backend): three tasks, three winners")
        #expect(Set(claimed.map(\.taskID)).count == 3, "no task handed out twice")
        #expect(try await repository.claimNext(scope: queue, filter: .init(), worker: "late", leaseSeconds: 30, now: due) == nil)
    }

    /// No operation in one scope reaches a task of another.
    func tenantIsolation(_ repository: some TaskRepository) async throws {
        let mine = try self.freshScope()
        let other = try self.freshScope()
        let now = self.start.addingTimeInterval(1)
        let task = try await repository.create(try self.newTask(mine)).task
        let id = task.taskID
        await self.expectError(.notFound(taskID: id), "get") { _ = try await repository.get(id, scope: other) }
        await self.expectError(.notFound(taskID: id), "update") {
            _ = try await repository.update(id, scope: other, changes: TaskChanges(priority: 5), now: now)
        }
        await self.expectError(.notFound(taskID: id), "delete") { try await repository.delete(id, scope: other) }
        await self.expectError(.notFound(taskID: id), "claim") {
            _ = try await repository.claim(id, scope: other, worker: "w", leaseSeconds: 30, now: now)
        }
        #expect(try await repository.claimNext(scope: other, filter: .init(), worker: "w", leaseSeconds: 30, now: now) == nil)
        #expect(try await repository.list(scope: other, status: nil, filter: .init(), page: .init(limit: 10), now: now).items.isEmpty)
        #expect(try await repository.list(scope: other, status: .pending, filter: .init(), page: .init(limit: 10), now: now).items.isEmpty)
        let claimed = try await repository.claim(id, scope: mine, worker: "w", leaseSeconds: 30, now: now)
        let token = try #require(claimed.claimToken)
        await self.expectError(.notFound(taskID: id), "even with the token") {
            _ = try await repository.complete(id, scope: other, token: token, result: nil, now: now)
        }
        await self.expectError(.notFound(taskID: id), "heartbeat with the token") {
            _ = try await repository.heartbeat(id, scope: other, token: token, leaseSeconds: 30, now: now)
        }
        await self.expectError(.notFound(taskID: id), "fail with the token") {
            _ = try await repository.fail(id, scope: other, token: token, error: "x", retryable: true, now: now)
        }
        #expect(try await repository.get(id, scope: mine).status == .claimed, "\(self.backend): unchanged by the other tenant")
    }
}
