import DatabaseLayerTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import TaskRepositoryService

@Suite(.enabled(if: TestServers.mongoEnabled, TestServers.skipReason), .serialized)
struct TaskRoutesIntegrationTests {
    /// Every endpoint once, with its validation and state errors.
    @Test func endpointsAndTheirErrors() async throws {
        try await withTaskService { client, collection in
            // Create.
            let created = try await client.call(.post, "/api/v1/tasks", body: sampleTask)
            #expect(created.status == 201)
            #expect(created["status"] == "pending")
            #expect(created["attempts"] == 0)
            #expect(created["max_attempts"] == 3)
            #expect(created["priority"] == 0)
            #expect(created["claim_token"] == nil)
            #expect(created["attempts_remaining"] == nil)
            let id = try #require(created.taskID)
            #expect(UUID(uuidString: id) != nil)
            #expect(try await client.call(.post, "/api/v1/tasks", body: sampleTask, apiKey: nil).status == 401)
            for (body, code) in [
                (#"{"task_type":"X","status":"completed"}"#, "read_only_field"), (#"{"task_type":"X","task_id":"abc"}"#, "read_only_field"),
                (#"{"task_type":5}"#, "invalid_body"), (#"{"task_type":"X","priority":"high"}"#, "invalid_body"), ("{not json", "invalid_body"),
                (#"{"request":{}}"#, "invalid_body"), (#"{"task_type":"X","run_after":"yesterday"}"#, "invalid_body"),
                (#"{"task_type":"X","max_attempts":0}"#, "invalid_input"), (#"{"task_type":"X","priority":5000}"#, "invalid_input"),
                (#"{"task_type":"has space"}"#, "invalid_input"),
                // Changed on purpose by JSONBodyRules: unknown keys are `unknown_field` (they were `read_only_field`), and
                // operator keys inside free-form objects are `invalid_key` (they were `invalid_input`); nesting is capped.
                (#"{"task_type":"X","colour":"red"}"#, "unknown_field"), (#"{"task_type":"X","request":{"$where":"1"}}"#, "invalid_key"),
                (#"{"task_type":"X","template":{"a":{"b.c":1}}}"#, "invalid_key"),
                (
                    #"{"task_type":"X","request":"# + String(repeating: #"{"a":"#, count: 20) + "1" + String(repeating: "}", count: 20) + "}",
                    "too_deep"
                ),
                ("[]", "invalid_body"),
            ] {
                let reply = try await client.call(.post, "/api/v1/tasks", rawBody: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.code == code, "\(body)")
            }
            #expect(try await collection.count() == 1, "rejected creates wrote nothing")

            // Read.
            #expect(try await client.call(.get, "/api/v1/tasks/\(id)")["task_type"] == "GENERATIVE")
            #expect(try await client.call(.get, "/api/v1/tasks/not-a-uuid").code == "invalid_task_id")
            #expect(try await client.call(.get, "/api/v1/tasks/\(UUID().uuidString)").status == 404)

            // List: ready queue, filters, bad input.
            let low = try #require(try await client.call(.post, "/api/v1/tasks", body: ["task_type": "OTHER", "priority": -1]).taskID)
            let later = try await client.call(
                .post,
                "/api/v1/tasks",
                body: ["task_type": "OTHER", "run_after": .date(Date().addingTimeInterval(3600))]
            )
            #expect(later.status == 201)
            let ready = try await client.call(.get, "/api/v1/tasks")
            #expect(ready.itemIDs == [id, low], "priority order, future tasks excluded")
            #expect(ready["limit"] == 20 && ready["next"] == .null, "the page shape is {items, limit, next}")
            #expect(try await client.call(.get, "/api/v1/tasks?task_type=OTHER").items.count == 1)
            #expect(try await client.call(.get, "/api/v1/tasks?service=generative-service").items.count == 1)
            #expect(try await client.call(.get, "/api/v1/tasks?status=pending").items.count == 3)
            let firstPage = try await client.call(.get, "/api/v1/tasks?status=pending&limit=2")
            #expect(firstPage.items.count == 2)
            let secondPage = try await client.call(.get, "/api/v1/tasks?status=pending&limit=2&cursor=\(try #require(firstPage.next))")
            #expect(secondPage.items.count == 1)
            #expect(secondPage["next"] == .null, "the last page says so")
            #expect(Set(firstPage.itemIDs + secondPage.itemIDs).count == 3, "no task twice")
            #expect(try await client.call(.get, "/api/v1/tasks?cursor=not-a-cursor").code == "invalid_cursor")
            #expect(try await client.call(.get, "/api/v1/tasks?limit=1000")["limit"] == 50, "clamped to MAX_PAGE_SIZE")
            #expect(try await client.call(.get, "/api/v1/tasks?status=running").code == "invalid_query")
            #expect(try await client.call(.get, "/api/v1/tasks?limit=abc").code == "invalid_query")

            // Update: only client-owned fields, only while pending.
            let updated = try await client.call(.put, "/api/v1/tasks/\(low)", body: ["priority": 10, "tags": ["service": "x"]])
            #expect(updated.status == 200)
            #expect(updated["priority"] == 10)
            #expect(try await client.call(.put, "/api/v1/tasks/\(low)", body: ["status": "completed"]).code == "read_only_field")
            #expect(try await client.call(.put, "/api/v1/tasks/\(low)", body: ["attempts": 0]).code == "read_only_field")
            #expect(try await client.call(.put, "/api/v1/tasks/\(low)", body: ["task_type": "Y"]).code == "read_only_field", "fixed at creation")
            #expect(try await client.call(.put, "/api/v1/tasks/\(low)", body: ["colour": "red"]).code == "unknown_field", "changed on purpose")
            #expect(try await client.call(.put, "/api/v1/tasks/\(UUID().uuidString)", body: ["priority": 1]).status == 404)

            // Claim by id, heartbeat, complete.
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/claim", body: ["worker_id": "w1", "lease_seconds": 0]).status == 400)
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/claim", body: ["lease_seconds": 30]).status == 400)
            // Bodies are checked by JSONBodyRules everywhere now: a key a worker endpoint does not take is refused, where
            // it used to be ignored (claim-by-id names its task in the path, so queue filters are unknown there).
            #expect(
                try await client.call(.post, "/api/v1/tasks/\(id)/claim", body: ["worker_id": "w1", "lease_seconds": 30, "task_type": "X"]).code
                    == "unknown_field"
            )
            #expect(
                try await client.call(.post, "/api/v1/tasks/claim", body: ["worker_id": "w1", "lease_seconds": 30, "urgent": true]).code
                    == "unknown_field"
            )
            #expect(
                try await client.call(.post, "/api/v1/tasks/\(UUID().uuidString)/claim", body: ["worker_id": "w1", "lease_seconds": 30]).status == 404
            )
            let claim = try await client.call(.post, "/api/v1/tasks/\(id)/claim", body: ["worker_id": "w1", "lease_seconds": 30])
            #expect(claim.status == 200)
            #expect(claim["status"] == "claimed")
            #expect(claim["claimed_by"] == "w1")
            #expect(claim["attempts"] == 1)
            let token = try #require(claim.token)
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/claim", body: ["worker_id": "w2", "lease_seconds": 30]).status == 409)
            #expect(try await client.call(.put, "/api/v1/tasks/\(id)", body: ["priority": 1]).status == 409, "claimed tasks cannot be edited")
            #expect(try await client.call(.get, "/api/v1/tasks/\(id)")["claim_token"] == nil, "reads never reveal the token")
            let wrong = UUID().uuidString.lowercased()
            #expect(
                try await client.call(.post, "/api/v1/tasks/\(id)/heartbeat", body: ["claim_token": .string(wrong), "lease_seconds": 60]).status
                    == 409
            )
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/heartbeat", body: ["claim_token": "x", "lease_seconds": 60]).status == 400)
            let beat = try await client.call(.post, "/api/v1/tasks/\(id)/heartbeat", body: ["claim_token": .string(token), "lease_seconds": 60])
            #expect(beat.status == 200)
            #expect(beat["lease_expires_at"] != claim["lease_expires_at"])
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/complete", body: ["claim_token": .string(wrong)]).status == 409)
            let done = try await client.call(.post, "/api/v1/tasks/\(id)/complete", body: ["claim_token": .string(token), "result": ["answer": 42]])
            #expect(done.status == 200)
            #expect(done["status"] == "completed")
            #expect(done["result"]?.objectValue?["answer"] == 42)
            #expect(done["completed_at"]?.stringValue != nil)
            #expect(
                try await client.call(.post, "/api/v1/tasks/\(id)/complete", body: ["claim_token": .string(token)]).status == 409,
                "no second completion"
            )
            #expect(try await client.call(.post, "/api/v1/tasks/\(id)/fail", body: ["claim_token": .string(token), "error": "x"]).status == 409)

            // Delete.
            #expect(try await client.call(.delete, "/api/v1/tasks/\(id)").status == 204)
            #expect(try await client.call(.delete, "/api/v1/tasks/\(id)").status == 404)
            #expect(try await client.call(.get, "/api/v1/tasks/\(id)").status == 404)
        }
    }

    /// Paging through every page by cursor yields each task exactly once, in queue order.
    @Test func cursorPagingYieldsEveryTaskOnceInQueueOrder() async throws {
        try await withTaskService { client, _ in
            var created: [JSONObject] = []
            for index in 0..<13 {
                let reply = try await client.call(
                    .post,
                    "/api/v1/tasks",
                    tenant: "pager",
                    body: ["task_type": "PAGE", "priority": .int(Int64(index % 4))]
                )
                #expect(reply.status == 201)
                created.append(reply.json)
            }
            /// The queue-order sort key of a task answer.
            func key(_ task: JSONObject) -> (Int64, String, String) {
                (-(task["priority"]?.intValue ?? 0), task["created_at"]?.stringValue ?? "", task["task_id"]?.stringValue ?? "")
            }
            let expected = created.sorted { key($0) < key($1) }.compactMap { $0["task_id"]?.stringValue }
            for query in ["status=pending&limit=5", "limit=5", "limit=1", "limit=13"] {
                var seen: [String] = []
                var next: String? = nil
                var pages = 0
                repeat {
                    let path = "/api/v1/tasks?\(query)" + (next.map { "&cursor=\($0)" } ?? "")
                    let page = try await client.call(.get, path, tenant: "pager")
                    #expect(page.status == 200)
                    seen += page.itemIDs
                    next = page.next
                    pages += 1
                } while next != nil && pages <= 14
                #expect(seen == expected, "\(query): every task once, in queue order")
            }
        }
    }

    /// A reused idempotency key answers 200 with the first task, also under a race.
    @Test func idempotentCreate() async throws {
        try await withTaskService { client, collection in
            var body = sampleTask.objectValue!
            body["idempotency_key"] = "order-42"
            let first = try await client.call(.post, "/api/v1/tasks", tenant: "acme", body: .object(body))
            let second = try await client.call(.post, "/api/v1/tasks", tenant: "acme", body: .object(body))
            #expect(first.status == 201)
            #expect(second.status == 200)
            #expect(second.taskID == first.taskID)
            #expect(try await client.call(.post, "/api/v1/tasks", tenant: "other", body: .object(body)).status == 201, "keys are per tenant")
            // Keyless tasks of one tenant never collide (the index is partial, not sparse).
            #expect(try await client.call(.post, "/api/v1/tasks", tenant: "acme", body: sampleTask).status == 201)
            #expect(try await client.call(.post, "/api/v1/tasks", tenant: "acme", body: sampleTask).status == 201)
            // Racing creates with one new key: exactly one 201, everyone gets the same task.
            body["idempotency_key"] = "race"
            let raceBody = body
            let replies = try await withThrowingTaskGroup(of: TestReply.self) { group in
                for _ in 0..<10 { group.addTask { try await client.call(.post, "/api/v1/tasks", tenant: "acme", body: .object(raceBody)) } }
                return try await group.reduce(into: [TestReply]()) { $0.append($1) }
            }
            #expect(replies.filter { $0.status == 201 }.count == 1)
            #expect(replies.allSatisfy { $0.status == 201 || $0.status == 200 })
            #expect(Set(replies.compactMap(\.taskID)).count == 1)
            #expect(try await collection.count(["idempotency_key": ["$eq": "race"]]) == 1)
        }
    }

    /// No endpoint reaches another tenant's task, even with its claim token.
    @Test func tenantsCannotTouchEachOthersTasks() async throws {
        try await withTaskService { client, collection in
            let mine = try #require(try await client.call(.post, "/api/v1/tasks", tenant: "tenant-a", body: sampleTask).taskID)
            _ = try await client.call(.post, "/api/v1/tasks", body: sampleTask)
            #expect(try await collection.count(["tenant_id": ["$eq": "tenant-a"]]) == 1)
            #expect(try await client.call(.get, "/api/v1/tasks/\(mine)", tenant: "tenant-b").status == 404)
            #expect(try await client.call(.get, "/api/v1/tasks/\(mine)").status == 404, "no tenant sees only tenant-less tasks")
            #expect(try await client.call(.get, "/api/v1/tasks", tenant: "tenant-b").items.isEmpty)
            #expect(
                try await client.call(.post, "/api/v1/tasks/\(mine)/claim", tenant: "tenant-b", body: ["worker_id": "w", "lease_seconds": 30]).status
                    == 404
            )
            #expect(
                try await client.call(.post, "/api/v1/tasks/claim", tenant: "tenant-b", body: ["worker_id": "w", "lease_seconds": 30]).status == 204
            )
            #expect(try await client.call(.put, "/api/v1/tasks/\(mine)", tenant: "tenant-b", body: ["priority": 9]).status == 404)
            #expect(try await client.call(.delete, "/api/v1/tasks/\(mine)", tenant: "tenant-b").status == 404)
            #expect(try await client.call(.get, "/api/v1/tasks/\(mine)", tenant: "tenant-a")["priority"] == 0, "unchanged")
            #expect(try await client.call(.get, "/api/v1/tasks", tenant: "tenant-a").items.count == 1)
            let claimed = try await client.call(.post, "/api/v1/tasks/claim", tenant: "tenant-a", body: ["worker_id": "w", "lease_seconds": 30])
            #expect(claimed.taskID == mine)
            #expect(
                try await client.call(
                    .post,
                    "/api/v1/tasks/\(mine)/complete",
                    tenant: "tenant-b",
                    body: ["claim_token": .string(claimed.token ?? "")]
                ).status == 404,
                "even with the token, another tenant cannot finish it"
            )
            #expect(try await client.call(.get, "/api/v1/tasks", tenant: "Bad Tenant").code == "invalid_tenant")
        }
    }
}
