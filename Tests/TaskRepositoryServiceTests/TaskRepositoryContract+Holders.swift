import DatabaseLayer
import Foundation
@testable import TaskRepositoryService
import Testing

/// What only the holder of a claim may do, and what a failure does.
extension TaskRepositoryContract {
    /// Only the current token can heartbeat, complete or fail; a finished task accepts nothing more.
    func holderOnly(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let task = try await repository.create(try self.newTask(scope)).task
        let now = self.start.addingTimeInterval(1)
        let claimed = try await repository.claim(task.taskID, scope: scope, worker: "w", leaseSeconds: 30, now: now)
        let token = try #require(claimed.claimToken)
        let wrong = UUID().uuidString.lowercased()
        await self.expectError(.conflict(""), "heartbeat with another token") {
            _ = try await repository.heartbeat(task.taskID, scope: scope, token: wrong, leaseSeconds: 60, now: now)
        }
        await self.expectError(.conflict(""), "complete with another token") {
            _ = try await repository.complete(task.taskID, scope: scope, token: wrong, result: nil, now: now)
        }
        await self.expectError(.conflict(""), "fail with another token") {
            _ = try await repository.fail(task.taskID, scope: scope, token: wrong, error: "x", retryable: true, now: now)
        }
        let beat = try await repository.heartbeat(task.taskID, scope: scope, token: token, leaseSeconds: 60, now: now.addingTimeInterval(5))
        #expect(beat.leaseExpiresAt == now.addingTimeInterval(65), "\(self.backend): the lease runs from the heartbeat")
        #expect(beat.claimToken == token && beat.status == .claimed)
        let done = try await repository.complete(task.taskID, scope: scope, token: token, result: ["answer": 42], now: now.addingTimeInterval(6))
        #expect(done.status == .completed && done.result == ["answer": 42] && done.completedAt == now.addingTimeInterval(6))
        #expect(done.claimToken == nil && done.leaseExpiresAt == nil)
        await self.expectError(.conflict(""), "no second completion") {
            _ = try await repository.complete(task.taskID, scope: scope, token: token, result: nil, now: now)
        }
        await self.expectError(.conflict(""), "no failure after completion") {
            _ = try await repository.fail(task.taskID, scope: scope, token: token, error: "x", retryable: true, now: now)
        }
        await self.expectError(.conflict(""), "a completed task cannot be claimed") {
            _ = try await repository.claim(task.taskID, scope: scope, worker: "w2", leaseSeconds: 30, now: now)
        }
    }

    /// A retryable failure with attempts left returns to pending later; otherwise the task ends failed.
    func retryToPendingAndFinalFailure(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        let now = self.start.addingTimeInterval(1)
        let flaky = try await repository.create(try self.newTask(scope, maxAttempts: 2)).task
        let held = try await repository.claim(flaky.taskID, scope: scope, worker: "w", leaseSeconds: 30, now: now)
        let retried = try await repository.fail(
            flaky.taskID,
            scope: scope,
            token: try #require(held.claimToken),
            error: "timeout",
            retryable: true,
            now: now
        )
        #expect(retried.status == .pending, "\(self.backend): back to the queue")
        #expect(retried.runAfter > now, "pushed by the backoff")
        #expect(retried.errors == [TaskFailure(attempt: 1, error: "timeout", retryable: true, at: now)])
        #expect(retried.claimToken == nil && retried.leaseExpiresAt == nil && retried.attemptsRemaining == 1)
        #expect(try await repository.claimNext(scope: scope, filter: .init(), worker: "w", leaseSeconds: 30, now: now) == nil, "not due yet")

        for (maxAttempts, retryable) in [(3, false), (1, true)] {
            let task = try await repository.create(try self.newTask(scope, maxAttempts: maxAttempts)).task
            let claim = try await repository.claim(task.taskID, scope: scope, worker: "w", leaseSeconds: 30, now: now)
            let failed = try await repository.fail(
                task.taskID,
                scope: scope,
                token: try #require(claim.claimToken),
                error: "bad",
                retryable: retryable,
                now: now
            )
            #expect(failed.status == .failed, "\(self.backend): final failure (max_attempts \(maxAttempts), retryable \(retryable))")
            #expect(failed.completedAt == now && failed.errors.count == 1)
        }
    }
}
