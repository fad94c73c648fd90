import DatabaseLayer

/// The variables of seed 000, "Task Repository Service".
struct TaskRepositoryConfiguration: ServiceConfiguration {
    /// Name, listen variables and log-level variable from the reference.
    static let descriptor = ServiceDescriptor(name: "task-repo-service", defaultPort: 8503)

    var http: HTTPServiceConfiguration
    /// `MONGODB_URI` + `MONGODB_DATABASE`.
    var mongo: MongoConfiguration
    /// `MONGODB_TASKS_COLLECTION`.
    var tasksCollection: String
    /// `TASK_RETRY_BASE_MS` / `TASK_RETRY_MAX_MS`: backoff after a retryable failure.
    var retry: RetryPolicy

    init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError) {
        self.http = http
        self.mongo = try MongoConfiguration(
            environment: environment,
            uriVariable: "MONGODB_URI",
            database: environment.string("MONGODB_DATABASE", default: "task_repository"),
            applicationName: self.http.serviceName
        )
        self.tasksCollection = try environment.collectionName("MONGODB_TASKS_COLLECTION", default: "tasks")
        self.retry = RetryPolicy(
            base: .milliseconds(try environment.int("TASK_RETRY_BASE_MS", default: 2_000, range: 1...3_600_000)),
            cap: .milliseconds(try environment.int("TASK_RETRY_MAX_MS", default: 3_600_000, range: 1...86_400_000))
        )
    }
}
