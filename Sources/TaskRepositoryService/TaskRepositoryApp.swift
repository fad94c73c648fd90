import DatabaseLayer
import Hummingbird

/// Builds the task repository service: the work queue in MongoDB `task_repository`.
enum TaskRepositoryApp: ServiceApplication {
    /// Opens the collection, registers index creation as startup work and the queue-depth refresher as a
    /// service, and mounts ``TaskRoutes`` at `/api/v1/tasks`.
    static func build(configuration: TaskRepositoryConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let mongo = try runtime.mongo(configuration.mongo)
        let repository = MongoTaskRepository(collection: try mongo.collection(configuration.tasksCollection), retry: configuration.retry)
        // Indexes before the first request: the unique ones are what make claims and idempotent creates safe.
        runtime.addStartupStep("mongodb indexes") { try await repository.ensureIndexes() }
        let metrics = TaskMetrics(metrics: runtime.metrics)
        runtime.addService(TaskQueueDepthService(repository: repository, metrics: metrics, logger: runtime.logger))
        // The queue is for services (workers, schedulers): a user token is authenticated, then refused with 403.
        let routes = RouteCollection(context: ServiceRequestContext.self).add(middleware: ServiceCallersOnlyMiddleware())
        routes.addRoutes(
            TaskRoutes(repository: repository, metrics: metrics, maxPageSize: configuration.http.maxPageSize).collection,
            atPath: "/api/v1/tasks"
        )
        return routes
    }
}
