import DatabaseLayer
import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import TaskRepositoryService

/// The routes over ``MemoryTaskRepository``, through the shared middleware, with no server at all.
@Suite struct TaskRoutesUnitTests {
    /// Runs `body` against the task routes mounted exactly as ``TaskRepositoryApp`` mounts them.
    func withRoutes(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let environment = testServiceEnvironment(["MAX_PAGE_SIZE": "50"])
        let http = try HTTPServiceConfiguration(environment: environment, descriptor: TaskRepositoryConfiguration.descriptor)
        let runtime = ServiceRuntime(configuration: http, logger: Logger(label: "task-routes-unit"))
        let routes = TaskRoutes(repository: MemoryTaskRepository(), metrics: TaskMetrics(metrics: runtime.metrics), maxPageSize: http.maxPageSize)
        let router = runtime.makeRouter()
        router.addRoutes(routes.collection, atPath: "/api/v1/tasks")
        try await runtime.makeApplication(router: router).test(.router) { client in try await body(client) }
    }

    /// Create, claim-next, complete and list through HTTP: statuses, shapes and hidden fields.
    @Test func lifecycleAndShapes() async throws {
        try await self.withRoutes { client in
            let created = try await client.call(.post, "/api/v1/tasks", body: sampleTask)
            #expect(created.status == 201)
            #expect(created.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(created["attempts_remaining"] == nil && created["claim_token"] == nil)
            let claim = try await client.call(.post, "/api/v1/tasks/claim", body: ["worker_id": "w", "lease_seconds": 30])
            #expect(claim.status == 200 && claim.taskID == created.taskID && claim.token != nil)
            #expect(claim["attempts_remaining"] == nil)
            #expect(try await client.call(.post, "/api/v1/tasks/claim", body: ["worker_id": "w", "lease_seconds": 30]).status == 204)
            let done = try await client.call(
                .post,
                "/api/v1/tasks/\(try #require(claim.taskID))/complete",
                body: ["claim_token": .string(try #require(claim.token))]
            )
            #expect(done.status == 200 && done["status"] == "completed" && done["claim_token"] == nil)
            let list = try await client.call(.get, "/api/v1/tasks?status=completed&limit=500")
            #expect(list.itemIDs == [try #require(created.taskID)])
            #expect(list["limit"] == 50 && list["next"] == .null)
            #expect(try await client.call(.delete, "/api/v1/tasks/\(try #require(created.taskID))").status == 204)
        }
    }

    /// Body rules answer their own codes on every endpoint that takes a body.
    @Test func bodyRuleCodes() async throws {
        try await self.withRoutes { client in
            let id = try #require(try await client.call(.post, "/api/v1/tasks", body: ["task_type": "X"]).taskID)
            let token = UUID().uuidString
            for (method, path, body, code) in [
                (HTTPRequest.Method.post, "/api/v1/tasks", #"{"task_type":"X","errors":[]}"#, "read_only_field"),
                (.post, "/api/v1/tasks", #"{"task_type":"X","owner":"me"}"#, "unknown_field"),
                (.put, "/api/v1/tasks/\(id)", #"{"idempotency_key":"k"}"#, "read_only_field"),
                (.put, "/api/v1/tasks/\(id)", #"{"request":{"$set":{}}}"#, "invalid_key"),
                // Extended JSON is not a way around the operator check: `$date`/`$oid` are keys like any other.
                (.post, "/api/v1/tasks", #"{"task_type":"X","request":{"at":{"$date":0}}}"#, "invalid_key"),
                (.put, "/api/v1/tasks/\(id)", #"{"template":{"o":{"$oid":"0123456789abcdef01234567"}}}"#, "invalid_key"),
                (.post, "/api/v1/tasks/\(id)/claim", #"{"worker_id":"w","lease_seconds":5,"service":"s"}"#, "unknown_field"),
                (.post, "/api/v1/tasks/\(id)/heartbeat", #"{"claim_token":"\#(token)","lease_seconds":5,"x":1}"#, "unknown_field"),
                (.post, "/api/v1/tasks/\(id)/complete", #"{"claim_token":"\#(token)","result":{"a.b":1}}"#, "invalid_key"),
                (.post, "/api/v1/tasks/\(id)/fail", #"{"claim_token":"\#(token)","error":"e","status":"failed"}"#, "unknown_field"),
                (.post, "/api/v1/tasks/\(id)/fail", #"{"claim_token":"nope","error":"e"}"#, "invalid_claim_token"),
            ] {
                let reply = try await client.call(method, path, rawBody: body)
                #expect(reply.status == 400, "\(method) \(path) \(body)")
                #expect(reply.code == code, "\(method) \(path) \(body)")
            }
        }
    }

    /// A method a path does not declare is 405 with `Allow` (README, openapi.yaml), not a 404 that says the resource is missing.
    @Test func undeclaredMethodIs405() async throws {
        try await self.withRoutes { client in
            let reply = try await client.call(.patch, "/api/v1/tasks")
            #expect(reply.status == 405)
            #expect(reply.code == "method_not_allowed")
            let allowed = Set((reply.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(allowed.isSuperset(of: ["GET", "POST"]))
        }
    }
}
