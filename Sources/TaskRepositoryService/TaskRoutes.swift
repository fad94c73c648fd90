import DatabaseLayer
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The endpoints of seed 000's task table plus claim-next and heartbeat, under `/api/v1/tasks`.
struct TaskRoutes: Sendable {
    let repository: MongoTaskRepository
    let metrics: TaskMetrics
    let maxPageSize: Int

    /// Registers every route.
    func add(to router: some RouterMethods<ServiceRequestContext>) {
        let tasks = router.group("/api/v1/tasks")
        tasks.post(use: self.create)
        tasks.get(use: self.list)
        tasks.post("/claim", use: self.claimNext)
        tasks.get("/:task_id", use: self.get)
        tasks.put("/:task_id", use: self.update)
        tasks.delete("/:task_id", use: self.delete)
        tasks.post("/:task_id/claim", use: self.claim)
        tasks.post("/:task_id/heartbeat", use: self.heartbeat)
        tasks.post("/:task_id/complete", use: self.complete)
        tasks.post("/:task_id/fail", use: self.fail)
    }

    // MARK: Handlers

    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let body = try await request.decode(as: JSONObject.self, context: context)
        try TaskValidation.onlyKeys(CreateTaskRequest.allowedKeys, in: body)
        let input = try body.decode(CreateTaskRequest.self)
        let now = Date()
        let maxAttempts = try TaskValidation.maxAttempts(input.maxAttempts ?? 3)
        let request = input.request ?? [:]
        let template = input.template ?? [:]
        try TaskValidation.document(.object(request), field: "request")
        try TaskValidation.document(.object(template), field: "template")
        let task = TaskItem(
            taskID: UUID().uuidString.lowercased(), tenantID: context.tenant?.rawValue,
            taskType: try TaskValidation.identifier(input.taskType, field: "task_type"),
            request: request, template: template, tags: try TaskValidation.tags(input.tags ?? [:]),
            priority: try TaskValidation.priority(input.priority ?? 0), runAfter: input.runAfter ?? now, maxAttempts: maxAttempts,
            idempotencyKey: try input.idempotencyKey.map { try TaskValidation.identifier($0, field: "idempotency_key") },
            status: .pending, attempts: 0, attemptsRemaining: maxAttempts, claimedBy: nil, claimToken: nil, leaseExpiresAt: nil,
            result: nil, errors: [], createdAt: now, updatedAt: now, completedAt: nil)
        let (stored, created) = try await self.repository.create(task)
        if created { self.metrics.created() }
        return try Self.json(stored.publicView(), status: created ? .created : .ok, context: context)
    }

    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let page = try PageRequest(request: request, maxPageSize: self.maxPageSize)
        let query = request.uri.queryParameters
        var status: TaskStatus?
        if let raw = query["status"] {
            guard let value = TaskStatus(rawValue: String(raw)) else {
                throw APIError.badRequest("status must be one of pending, claimed, completed, failed.", code: "invalid_query")
            }
            status = value
        }
        let filter = TaskQueueFilter(
            taskType: try query["task_type"].map { try TaskValidation.identifier(String($0), field: "task_type") },
            service: try query["service"].map { try TaskValidation.identifier(String($0), field: "service") })
        let tasks = try await self.repository.list(scope: TaskScope(tenant: context.tenant), status: status, filter: filter, page: page, now: Date())
        let result = Page(rows: tasks, request: page) { PageCursor(values: [.int(Int64($0.priority)), .date($0.createdAt), .string($0.taskID)]) }
        let body: JSONObject = [
            "items": .array(try result.items.map { .object(try $0.publicView()) }), "limit": .int(Int64(result.limit)),
            "next": result.next.map(JSONValue.string) ?? .null,
        ]
        return try Self.json(body, status: .ok, context: context)
    }

    @Sendable func get(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        guard let task = try await self.repository.get(id, scope: TaskScope(tenant: context.tenant)) else { throw Self.notFound(id) }
        return try Self.json(task.publicView(), status: .ok, context: context)
    }

    @Sendable func update(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        let body = try await request.decode(as: JSONObject.self, context: context)
        try TaskValidation.onlyKeys(UpdateTaskRequest.allowedKeys, in: body)
        let changes = try body.decode(UpdateTaskRequest.self)
        if let request = changes.request { try TaskValidation.document(.object(request), field: "request") }
        if let template = changes.template { try TaskValidation.document(.object(template), field: "template") }
        if let tags = changes.tags { _ = try TaskValidation.tags(tags) }
        if let priority = changes.priority { _ = try TaskValidation.priority(priority) }
        if let maxAttempts = changes.maxAttempts { _ = try TaskValidation.maxAttempts(maxAttempts) }
        let outcome = try await self.repository.update(id, scope: TaskScope(tenant: context.tenant), changes: changes, now: Date())
        return try Self.respond(outcome, id: id, context: context)
    }

    @Sendable func delete(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        guard try await self.repository.delete(id, scope: TaskScope(tenant: context.tenant)) else { throw Self.notFound(id) }
        return Response(status: .noContent)
    }

    @Sendable func claim(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        let body = try await request.decode(as: ClaimRequest.self, context: context)
        let worker = try TaskValidation.identifier(body.workerID, field: "worker_id")
        let lease = try TaskValidation.leaseSeconds(body.leaseSeconds)
        let start = ContinuousClock.now
        let outcome = try await self.repository.claim(id, scope: TaskScope(tenant: context.tenant), worker: worker, leaseSeconds: lease, now: Date())
        self.metrics.claimLatency(ContinuousClock.now - start, kind: "by_id")
        if case .done = outcome { self.metrics.claimed() }
        return try Self.respond(outcome, id: id, context: context, includeClaimToken: true)
    }

    @Sendable func claimNext(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let body = try await request.decode(as: ClaimRequest.self, context: context)
        let worker = try TaskValidation.identifier(body.workerID, field: "worker_id")
        let lease = try TaskValidation.leaseSeconds(body.leaseSeconds)
        let filter = TaskQueueFilter(
            taskType: try body.taskType.map { try TaskValidation.identifier($0, field: "task_type") },
            service: try body.service.map { try TaskValidation.identifier($0, field: "service") })
        let start = ContinuousClock.now
        let task = try await self.repository.claimNext(scope: TaskScope(tenant: context.tenant), filter: filter, worker: worker, leaseSeconds: lease, now: Date())
        self.metrics.claimLatency(ContinuousClock.now - start, kind: "next")
        guard let task else { return Response(status: .noContent) }
        self.metrics.claimed()
        return try Self.json(task.publicView(includeClaimToken: true), status: .ok, context: context)
    }

    @Sendable func heartbeat(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        let body = try await request.decode(as: HeartbeatRequest.self, context: context)
        let lease = try TaskValidation.leaseSeconds(body.leaseSeconds)
        let outcome = try await self.repository.heartbeat(
            id, scope: TaskScope(tenant: context.tenant), token: try Self.token(body.claimToken), leaseSeconds: lease, now: Date())
        return try Self.respond(outcome, id: id, context: context, includeClaimToken: true)
    }

    @Sendable func complete(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        let body = try await request.decode(as: CompleteRequest.self, context: context)
        if let result = body.result { try TaskValidation.document(result, field: "result") }
        let outcome = try await self.repository.complete(
            id, scope: TaskScope(tenant: context.tenant), token: try Self.token(body.claimToken), result: body.result, now: Date())
        if case .done = outcome { self.metrics.completed() }
        return try Self.respond(outcome, id: id, context: context)
    }

    @Sendable func fail(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        let body = try await request.decode(as: FailRequest.self, context: context)
        guard (1...4096).contains(body.error.utf8.count) else { throw APIError.badRequest("error must be 1-4096 bytes.") }
        let outcome = try await self.repository.fail(
            id, scope: TaskScope(tenant: context.tenant), token: try Self.token(body.claimToken), error: body.error,
            retryable: body.retryable ?? true, now: Date())
        if case .done(let task) = outcome { self.metrics.failed(final: task.status == .failed) }
        return try Self.respond(outcome, id: id, context: context)
    }

    // MARK: Helpers

    static func taskID(_ context: ServiceRequestContext) throws -> String {
        try TaskValidation.taskID(context.parameters.require("task_id"))
    }

    static func token(_ raw: String) throws -> String {
        guard UUID(uuidString: raw) != nil else { throw APIError.badRequest("claim_token must be the token returned by claim.", code: "invalid_claim_token") }
        return raw.lowercased()
    }

    static func notFound(_ id: String) -> APIError { .notFound("No task \(id) for this tenant.") }

    static func respond(_ outcome: TaskOutcome<TaskItem>, id: String, context: ServiceRequestContext, includeClaimToken: Bool = false) throws -> Response {
        switch outcome {
        case .done(let task): return try self.json(task.publicView(includeClaimToken: includeClaimToken), status: .ok, context: context)
        case .notFound: throw self.notFound(id)
        case .conflict(let detail): throw APIError.conflict(detail)
        }
    }

    static func json(_ object: JSONObject, status: HTTPResponse.Status, context: ServiceRequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: object.jsonString)))
    }
}
