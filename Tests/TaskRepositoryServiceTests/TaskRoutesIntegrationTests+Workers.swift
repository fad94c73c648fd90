import DatabaseLayerTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import TaskRepositoryService

/// Leases and retries through HTTP, with real time (the contract covers the same with a moved clock).
extension TaskRoutesIntegrationTests {
    /// An expired lease is reclaimed by another worker, and the stale claimer can change nothing.
    @Test func leaseExpiryReclaimAndStaleClaimer() async throws {
        try await withTaskService { client, _ in
            let id = try #require(try await client.call(.post, "/api/v1/tasks", body: sampleTask).taskID)
            let first = try await client.call(.post, "/api/v1/tasks/\(id)/claim", body: ["worker_id": "slow", "lease_seconds": 1])
            let staleToken = try #require(first.token)
            #expect(try await client.call(.get, "/api/v1/tasks").items.isEmpty, "a live lease is not ready")
            try await Task.sleep(for: .milliseconds(1300))
            #expect(try await client.call(.get, "/api/v1/tasks").items.count == 1, "an expired lease is ready again")
            let second = try await client.call(.post, "/api/v1/tasks/claim", body: ["worker_id": "fast", "lease_seconds": 30])
            #expect(second.status == 200)
            #expect(second.taskID == id)
            #expect(second["attempts"] == 2)
            #expect(second["claimed_by"] == "fast")
            let token = try #require(second.token)
            #expect(token != staleToken)
            let stale = try await client.call(.post, "/api/v1/tasks/\(id)/complete", body: ["claim_token": .string(staleToken), "result": "late"])
            #expect(stale.status == 409)
            #expect(
                try await client.call(.post, "/api/v1/tasks/\(id)/heartbeat", body: ["claim_token": .string(staleToken), "lease_seconds": 30]).status
                    == 409
            )
            let task = try await client.call(.get, "/api/v1/tasks/\(id)")
            #expect(task["status"] == "claimed" && task["claimed_by"] == "fast", "the stale claimer changed nothing")
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/complete", body: ["claim_token": .string(token)]).status == 200)
        }
    }

    /// A retryable failure waits out its backoff; the last attempt and a non-retryable failure are final.
    ///
    /// The base delay is seconds, not milliseconds: the "not due yet" checks must land inside the backoff window
    /// even when the shared CI machine is slow.
    @Test func retryBackoffAndFinalFailure() async throws {
        try await withTaskService(retryBaseMilliseconds: 3_000) { client, _ in
            let id = try #require(try await client.call(.post, "/api/v1/tasks", body: ["task_type": "FLAKY", "max_attempts": 2]).taskID)
            let claim = try await client.call(.post, "/api/v1/tasks/claim", body: ["worker_id": "w", "lease_seconds": 30])
            let before = Date()
            let failed = try await client.call(
                .post,
                "/api/v1/tasks/\(id)/fail",
                body: ["claim_token": .string(try #require(claim.token)), "error": "timeout"]
            )
            #expect(failed.status == 200)
            #expect(failed["status"] == "pending", "retryable with attempts left goes back to the queue")
            let runAfter = try #require(failed["run_after"]?.stringValue.flatMap(ISO8601.parse))
            #expect(runAfter > before.addingTimeInterval(1.4), "pushed by backoff (jittered: at least half of 3 s)")
            #expect(failed["errors"]?.arrayValue?.count == 1)
            #expect(try await client.call(.post, "/api/v1/tasks/claim", body: ["worker_id": "w", "lease_seconds": 30]).status == 204, "not due yet")
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/claim", body: ["worker_id": "w", "lease_seconds": 30]).status == 409)
            try await Task.sleep(until: .now + .milliseconds(Int64(max(0, runAfter.timeIntervalSinceNow) * 1000) + 50))
            let again = try await client.call(.post, "/api/v1/tasks/claim", body: ["worker_id": "w", "lease_seconds": 30])
            #expect(again.status == 200)
            #expect(again["attempts"] == 2)
            let final = try await client.call(
                .post,
                "/api/v1/tasks/\(id)/fail",
                body: ["claim_token": .string(try #require(again.token)), "error": "timeout again"]
            )
            #expect(final["status"] == "failed", "no attempts left")
            #expect(final["errors"]?.arrayValue?.compactMap { $0.objectValue?["error"]?.stringValue } == ["timeout", "timeout again"])
            #expect(final["completed_at"]?.stringValue != nil)

            let fatal = try #require(try await client.call(.post, "/api/v1/tasks", body: ["task_type": "BAD"]).taskID)
            let held = try await client.call(.post, "/api/v1/tasks/\(fatal)/claim", body: ["worker_id": "w", "lease_seconds": 30])
            let noRetry = try await client.call(
                .post,
                "/api/v1/tasks/\(fatal)/fail",
                body: ["claim_token": .string(try #require(held.token)), "error": "bad input", "retryable": false]
            )
            #expect(noRetry["status"] == "failed", "non-retryable fails at once")
        }
    }
}
