import DatabaseLayer
import Foundation
import Hummingbird

/// The endpoints of seed 000's task table plus claim-next and heartbeat, as a route collection that
/// ``TaskRepositoryApp`` mounts at `/api/v1/tasks`.
///
/// Handlers decode a typed body through ``JSONBodyRules``, validate it into domain values, call the repository
/// and return a `ResponseEncodable` (encoded by the context's response encoder) or a bare status. Failures are
/// thrown as ``TaskError`` (or DatabaseLayer's errors) and rendered as problem+json by the shared middleware.
struct TaskRoutes<Repository: TaskRepository>: Sendable {
    /// Where tasks are stored.
    let repository: Repository
    /// The service's own metric families.
    let metrics: TaskMetrics
    /// `MAX_PAGE_SIZE`.
    let maxPageSize: Int

    /// The routes, relative to the mount path.
    var collection: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post(use: self.create)
        routes.get(use: self.list)
        routes.post("/claim", use: self.claimNext)
        routes.get("/:task_id", use: self.get)
        routes.put("/:task_id", use: self.update)
        routes.delete("/:task_id", use: self.delete)
        routes.post("/:task_id/claim", use: self.claim)
        routes.post("/:task_id/heartbeat", use: self.heartbeat)
        routes.post("/:task_id/complete", use: self.complete)
        routes.post("/:task_id/fail", use: self.fail)
        return routes
    }

    // MARK: Tasks

    /// `POST /`: 201 with the new task, or 200 with the first task of a reused idempotency key.
    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> EditedResponse<TaskResponse> {
        let input = try await request.decodeJSONBody(as: CreateTaskRequest.self, context: context, rules: CreateTaskRequest.rules)
        let (task, created) = try await self.repository.create(try input.task(tenant: context.tenant, now: Date()))
        if created { self.metrics.created() }
        return EditedResponse(status: created ? .created : .ok, response: TaskResponse(task))
    }

    /// `GET /`: one page of the ready queue, or of the tasks in `?status=`.
    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> Page<TaskResponse> {
        let query = try TaskListQuery(query: request.queryDictionary, maxPageSize: self.maxPageSize)
        let page = try await self.repository.list(
            scope: Self.scope(context),
            status: query.status,
            filter: query.filter,
            page: query.page,
            now: Date()
        )
        return Page(items: page.items.map { TaskResponse($0) }, limit: page.limit, next: page.next)
    }

    /// `GET /{task_id}`: the task, never with its claim token.
    @Sendable func get(_ request: Request, context: ServiceRequestContext) async throws -> TaskResponse {
        TaskResponse(try await self.repository.get(try Self.taskID(context), scope: Self.scope(context)))
    }

    /// `PUT /{task_id}`: client-owned changes to a pending task.
    @Sendable func update(_ request: Request, context: ServiceRequestContext) async throws -> TaskResponse {
        let id = try Self.taskID(context)
        let changes = try await request.decodeJSONBody(as: TaskChanges.self, context: context, rules: TaskChanges.rules).validated()
        return TaskResponse(try await self.repository.update(id, scope: Self.scope(context), changes: changes, now: Date()))
    }

    /// `DELETE /{task_id}`: 204.
    @Sendable func delete(_ request: Request, context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        try await self.repository.delete(try Self.taskID(context), scope: Self.scope(context))
        return .noContent
    }

    // MARK: Workers

    /// `POST /{task_id}/claim`: this task, with the claim token.
    @Sendable func claim(_ request: Request, context: ServiceRequestContext) async throws -> TaskResponse {
        let id = try Self.taskID(context)
        let body = try await request.decodeJSONBody(as: ClaimRequest.self, context: context, rules: ClaimRequest.byIDRules).validated()
        let start = ContinuousClock.now
        // The latency is recorded for refused claims too: a slow 409 is as much a symptom as a slow 200.
        defer { self.metrics.claimLatency(ContinuousClock.now - start, kind: "by_id") }
        let task = try await self.repository.claim(
            id,
            scope: Self.scope(context),
            worker: body.workerID,
            leaseSeconds: body.leaseSeconds,
            now: Date()
        )
        self.metrics.claimed()
        return TaskResponse(task, includesClaimToken: true)
    }

    /// `POST /claim`: the next ready task with its claim token, or 204 (the `nil` of an optional response).
    @Sendable func claimNext(_ request: Request, context: ServiceRequestContext) async throws -> TaskResponse? {
        let body = try await request.decodeJSONBody(as: ClaimRequest.self, context: context, rules: ClaimRequest.nextRules).validated()
        let start = ContinuousClock.now
        let task = try await self.repository.claimNext(
            scope: Self.scope(context),
            filter: body.filter,
            worker: body.workerID,
            leaseSeconds: body.leaseSeconds,
            now: Date()
        )
        self.metrics.claimLatency(ContinuousClock.now - start, kind: "next")
        guard let task else { return nil }
        self.metrics.claimed()
        return TaskResponse(task, includesClaimToken: true)
    }

    /// `POST /{task_id}/heartbeat`: the task with the extended lease (and the token, which the holder has).
    @Sendable func heartbeat(_ request: Request, context: ServiceRequestContext) async throws -> TaskResponse {
        let id = try Self.taskID(context)
        let body = try await request.decodeJSONBody(as: HeartbeatRequest.self, context: context, rules: HeartbeatRequest.rules).validated()
        let task = try await self.repository.heartbeat(
            id,
            scope: Self.scope(context),
            token: body.claimToken,
            leaseSeconds: body.leaseSeconds,
            now: Date()
        )
        return TaskResponse(task, includesClaimToken: true)
    }

    /// `POST /{task_id}/complete`: the completed task.
    @Sendable func complete(_ request: Request, context: ServiceRequestContext) async throws -> TaskResponse {
        let id = try Self.taskID(context)
        let body = try await request.decodeJSONBody(as: CompleteRequest.self, context: context, rules: CompleteRequest.rules).validated()
        let task = try await self.repository.complete(id, scope: Self.scope(context), token: body.claimToken, result: body.result, now: Date())
        self.metrics.completed()
        return TaskResponse(task)
    }

    /// `POST /{task_id}/fail`: the task, `pending` again after a backoff or `failed`.
    @Sendable func fail(_ request: Request, context: ServiceRequestContext) async throws -> TaskResponse {
        let id = try Self.taskID(context)
        let body = try await request.decodeJSONBody(as: FailRequest.self, context: context, rules: FailRequest.rules).validated()
        let task = try await self.repository.fail(
            id,
            scope: Self.scope(context),
            token: body.claimToken,
            error: body.error,
            retryable: body.wantsRetry,
            now: Date()
        )
        self.metrics.failed(final: task.status == .failed)
        return TaskResponse(task)
    }

    // MARK: Helpers

    /// The validated `{task_id}` path parameter.
    static func taskID(_ context: ServiceRequestContext) throws -> String {
        try TaskValidation.taskID(context.parameters.require("task_id"))
    }

    /// The caller's scope, from the validated `X-Tenant-ID` (optional: without it, tenant-less tasks only).
    static func scope(_ context: ServiceRequestContext) -> TaskScope {
        TaskScope(tenant: context.tenant)
    }
}
