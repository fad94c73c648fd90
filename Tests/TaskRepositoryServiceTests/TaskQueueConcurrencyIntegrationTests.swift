import DatabaseLayerTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import TaskRepositoryService

/// What the workers saw, checked for the queue's guarantees.
final class QueueLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var holding: Set<String> = []
    private(set) var doubleHolds: [String] = []
    private(set) var completions: [String: Int] = [:]
    private(set) var finalFailures: [String: Int] = [:]
    private(set) var retries: [String: Int] = [:]
    private(set) var unexpected: [String] = []

    /// A worker got `id`; a second holder at once is recorded.
    func claimed(_ id: String) {
        self.lock.withLock { if !self.holding.insert(id).inserted { self.doubleHolds.append(id) } }
    }
    /// A worker gave `id` back.
    func released(_ id: String) { self.lock.withLock { _ = self.holding.remove(id) } }
    /// `id` was completed.
    func completed(_ id: String) { self.lock.withLock { self.completions[id, default: 0] += 1 } }
    /// `id` failed for good.
    func failedFinally(_ id: String) { self.lock.withLock { self.finalFailures[id, default: 0] += 1 } }
    /// `id` failed and will be retried.
    func retried(_ id: String) { self.lock.withLock { self.retries[id, default: 0] += 1 } }
    /// An answer no script expects.
    func problem(_ text: String) { self.lock.withLock { self.unexpected.append(text) } }
    var finished: Int { self.lock.withLock { self.completions.count + self.finalFailures.count } }
}

@Suite(.enabled(if: TestServers.mongoEnabled, TestServers.skipReason))
struct TaskQueueConcurrencyIntegrationTests {
    /// 20 workers drain 500 tasks through real HTTP (the live server and an HTTP client) with claim-next,
    /// complete and scripted failures. Every task must end exactly as scripted, none lost, none completed twice,
    /// and no two workers may ever hold the same task.
    @Test(.timeLimit(.minutes(5))) func twentyWorkersDrainFiveHundredTasks() async throws {
        let total = 500
        // Script: every 10th fails once (retryable) then completes; every 25th fails for good; the rest complete.
        /// What the worker does with task `index`.
        @Sendable func script(_ index: Int) -> String { index % 25 == 0 ? "fail_final" : (index % 10 == 0 ? "fail_once" : "complete") }
        let ledger = QueueLedger()
        try await withTaskService(retryBaseMilliseconds: 20, .live) { client, collection in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in 0..<20 {
                    group.addTask {
                        for index in stride(from: chunk, to: total, by: 20) {
                            let body: JSONValue = [
                                "task_type": "JOB",
                                "request": ["content": ["n": .int(Int64(index))], "metadata": ["script": .string(script(index))]],
                            ]
                            let reply = try await client.call(.post, "/api/v1/tasks", body: body)
                            guard reply.status == 201 else { throw APIError.badRequest("create failed: \(reply.status)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await collection.count() == total)

            let deadline = ContinuousClock.now + .seconds(240)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<20 {
                    group.addTask {
                        while ledger.finished < total, ContinuousClock.now < deadline {
                            let claim = try await client.call(
                                .post,
                                "/api/v1/tasks/claim",
                                body: ["worker_id": .string("w\(worker)"), "lease_seconds": 60]
                            )
                            if claim.status == 204 {
                                try await Task.sleep(for: .milliseconds(10))  // retried tasks wait out their backoff
                                continue
                            }
                            guard claim.status == 200, let id = claim.taskID, let token = claim.token else {
                                ledger.problem("claim answered \(claim.status)")
                                continue
                            }
                            ledger.claimed(id)
                            let plan = claim["request"]?.objectValue?["metadata"]?.objectValue?["script"]?.stringValue ?? ""
                            let attempts = claim["attempts"]?.intValue ?? 0
                            let reply: TestReply
                            ledger.released(id)  // released before answering, so a re-claim after a retry is not a double hold
                            switch (plan, attempts) {
                            case ("fail_final", _):
                                reply = try await client.call(
                                    .post,
                                    "/api/v1/tasks/\(id)/fail",
                                    body: ["claim_token": .string(token), "error": "fatal", "retryable": false]
                                )
                                if reply.status == 200 { ledger.failedFinally(id) }
                            case ("fail_once", 1):
                                reply = try await client.call(
                                    .post,
                                    "/api/v1/tasks/\(id)/fail",
                                    body: ["claim_token": .string(token), "error": "transient"]
                                )
                                if reply.status == 200 { ledger.retried(id) }
                            default:
                                reply = try await client.call(
                                    .post,
                                    "/api/v1/tasks/\(id)/complete",
                                    body: ["claim_token": .string(token), "result": ["by": .string("w\(worker)")]]
                                )
                                if reply.status == 200 { ledger.completed(id) }
                            }
                            if reply.status != 200 { ledger.problem("\(plan) of \(id) answered \(reply.status)") }
                        }
                    }
                }
                try await group.waitForAll()
            }

            #expect(ledger.unexpected.isEmpty, "\(ledger.unexpected.prefix(5))")
            #expect(ledger.doubleHolds.isEmpty, "tasks held by two workers at once: \(ledger.doubleHolds.prefix(5))")
            #expect(ledger.completions.values.allSatisfy { $0 == 1 }, "a task completed twice")
            let failFinal = (0..<total).filter { script($0) == "fail_final" }.count
            let failOnce = (0..<total).filter { script($0) == "fail_once" }.count
            #expect(ledger.completions.count == total - failFinal)
            #expect(ledger.finalFailures.count == failFinal)
            #expect(ledger.retries.count == failOnce)
            // The store agrees with what the workers saw: nothing lost, nothing left behind.
            #expect(try await collection.count(["status": ["$eq": "completed"]]) == total - failFinal)
            #expect(try await collection.count(["status": ["$eq": "failed"]]) == failFinal)
            #expect(try await collection.count(["status": ["$in": ["pending", "claimed"]]]) == 0)
            let retried = try await collection.find(["attempts": ["$eq": 2]])
            #expect(retried.count == failOnce)
            #expect(retried.allSatisfy { $0["status"] == "completed" && $0["errors"]?.arrayValue?.count == 1 })
        }
    }
}
