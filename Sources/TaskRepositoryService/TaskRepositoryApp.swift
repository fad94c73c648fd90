import DatabaseLayer
import Hummingbird
import Logging

/// Builds the task repository service: the work queue in MongoDB `task_repository`.
enum TaskRepositoryApp {
    static func build(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let configuration = try TaskRepositoryConfiguration(environment: environment)
        let runtime = ServiceRuntime(configuration: configuration.http, logger: logger)
        let mongo = try runtime.mongo(configuration.mongo)
        let repository = MongoTaskRepository(collection: try mongo.collection(configuration.tasksCollection), retry: configuration.retry)
        // Indexes before the first request: the unique ones are what make claims and idempotent creates safe.
        try await repository.ensureIndexes()
        let metrics = TaskMetrics(registry: runtime.metrics.registry)
        runtime.addService(TaskQueueDepthService(repository: repository, metrics: metrics, logger: logger))
        let router = runtime.makeRouter()
        TaskRoutes(repository: repository, metrics: metrics, maxPageSize: configuration.http.maxPageSize).add(to: router)
        return runtime.makeApplication(router: router)
    }
}
