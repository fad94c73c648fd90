import DatabaseLayer
import Hummingbird

/// Builds the task repository service: the work queue in MongoDB `task_repository`.
enum TaskRepositoryApp: ServiceApplication {
    static func build(configuration: TaskRepositoryConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        let mongo = try runtime.mongo(configuration.mongo)
        let repository = MongoTaskRepository(collection: try mongo.collection(configuration.tasksCollection), retry: configuration.retry)
        // Indexes before the first request: the unique ones are what make claims and idempotent creates safe.
        runtime.addStartupStep("mongodb indexes") { try await repository.ensureIndexes() }
        let metrics = TaskMetrics(registry: runtime.metrics.registry)
        runtime.addService(TaskQueueDepthService(repository: repository, metrics: metrics, logger: runtime.logger))
        TaskRoutes(repository: repository, metrics: metrics, maxPageSize: configuration.http.maxPageSize).add(to: routes)
        return routes
    }
}
