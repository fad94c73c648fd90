import DatabaseLayer
import Foundation
import Testing

@testable import TaskRepositoryService

/// The checks that need the store to compare dates written by update operators (leases, backoff, the ready
/// count); see ``exercise(_:)`` for which of them nx-27017 can run.
extension TaskRepositoryContract {
    /// an expired lease is reclaimable while attempts remain (due pending tasks go first), the
    /// stale holder can no longer act, and a lease that expires on the last attempt leaves the task claimed.
    func leaseExpiry(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let urgent = try await repository.create(try self.newTask(scope, priority: 10)).task
        let t1 = self.start.addingTimeInterval(1)
        let first = try await repository.claim(urgent.taskID, scope: scope, worker: "slow", leaseSeconds: 10, now: t1)
        let stale = try #require(first.claimToken)
        let normal = try await repository.create(try self.newTask(scope, priority: 0, at: 2)).task
        await self.expectError(.conflict(""), "a live lease is not claimable") {
            _ = try await repository.claim(urgent.taskID, scope: scope, worker: "fast", leaseSeconds: 30, now: t1.addingTimeInterval(5))
        }
        let late = t1.addingTimeInterval(11)
        let ready = try await repository.list(scope: scope, status: nil, filter: .init(), page: .init(limit: 10), now: late).items.map(\.taskID)
        #expect(Set(ready) == [urgent.taskID, normal.taskID], "an expired lease is ready again")
        let next = try #require(try await repository.claimNext(scope: scope, filter: .init(), worker: "fast", leaseSeconds: 30, now: late))
        #expect(next.taskID == normal.taskID, "due pending tasks are handed out before reclaimable leases, whatever their priority")
        let reclaimed = try #require(try await repository.claimNext(scope: scope, filter: .init(), worker: "fast", leaseSeconds: 30, now: late))
        #expect(reclaimed.taskID == urgent.taskID && reclaimed.attempts == 2 && reclaimed.claimedBy == "fast")
        #expect(reclaimed.claimToken != stale)
        await self.expectError(.conflict(""), "the stale holder cannot complete") {
            _ = try await repository.complete(urgent.taskID, scope: scope, token: stale, result: "late", now: late)
        }
        _ = try await repository.complete(urgent.taskID, scope: scope, token: try #require(reclaimed.claimToken), result: nil, now: late)

        let once = try await repository.create(try self.newTask(scope, maxAttempts: 1)).task
        _ = try await repository.claim(once.taskID, scope: scope, worker: "w", leaseSeconds: 10, now: t1)
        let over = t1.addingTimeInterval(60)
        #expect(try await repository.claimNext(scope: scope, filter: .init(), worker: "w", leaseSeconds: 10, now: over)?.taskID != once.taskID)
        await self.expectError(.conflict(""), "no attempts left after the lease expired") {
            _ = try await repository.claim(once.taskID, scope: scope, worker: "w", leaseSeconds: 10, now: over)
        }
    }

    /// a retried task becomes claimable once its backoff has passed; the last attempt's failure
    /// is final and the history keeps both errors.
    func backoffThenFinalFailure(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let now = self.start.addingTimeInterval(1)
        let task = try await repository.create(try self.newTask(scope, maxAttempts: 2)).task
        let held = try await repository.claim(task.taskID, scope: scope, worker: "w", leaseSeconds: 30, now: now)
        let retried = try await repository.fail(
            task.taskID,
            scope: scope,
            token: try #require(held.claimToken),
            error: "timeout",
            retryable: true,
            now: now
        )
        let due = retried.runAfter.addingTimeInterval(1)
        let again = try #require(
            try await repository.claimNext(scope: scope, filter: .init(), worker: "w", leaseSeconds: 30, now: due),
            "due after the backoff"
        )
        #expect(again.taskID == task.taskID && again.attempts == 2 && again.attemptsRemaining == 0)
        let final = try await repository.fail(
            task.taskID,
            scope: scope,
            token: try #require(again.claimToken),
            error: "timeout again",
            retryable: true,
            now: due
        )
        #expect(final.status == .failed, "\(self.backend): no attempts left")
        #expect(final.errors.map(\.error) == ["timeout", "timeout again"])
    }

    /// The ready count covers both ready states: a due pending task and an expired lease with attempts left.
    func readyCount(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let late = self.start.addingTimeInterval(3_600)
        let before = try await repository.readyCount(now: late)
        _ = try await repository.create(try self.newTask(scope))
        let leased = try await repository.create(try self.newTask(scope)).task
        _ = try await repository.claim(leased.taskID, scope: scope, worker: "w", leaseSeconds: 10, now: self.start)
        let future = try await repository.create(try self.newTask(scope, at: 7_200)).task
        #expect(future.runAfter > late)
        #expect(try await repository.readyCount(now: late) - before == 2, "\(self.backend): one due pending task, one expired lease")
    }
}
