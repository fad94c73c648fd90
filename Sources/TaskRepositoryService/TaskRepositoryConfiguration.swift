import DatabaseLayer

/// The variables of seed 000, "Task Repository Service".
struct TaskRepositoryConfiguration: Sendable {
    var http: HTTPServiceConfiguration
    /// `MONGODB_URI` + `MONGODB_DATABASE`.
    var mongo: MongoConfiguration
    /// `MONGODB_TASKS_COLLECTION`.
    var tasksCollection: String
    /// `TASK_RETRY_BASE_MS` / `TASK_RETRY_MAX_MS`: backoff after a retryable failure.
    var retry: RetryPolicy

    init(environment: ServiceEnvironment) throws(ConfigurationError) {
        self.http = try HTTPServiceConfiguration(
            environment: environment, defaultServiceName: "task-repo-service", hostVariable: "HOST", portVariable: "PORT",
            defaultPort: 8503, logLevelVariable: nil)
        self.mongo = try MongoConfiguration(
            environment: environment, uriVariable: "MONGODB_URI",
            database: environment.string("MONGODB_DATABASE", default: "task_repository"), applicationName: self.http.serviceName)
        self.tasksCollection = environment.string("MONGODB_TASKS_COLLECTION", default: "tasks")
        guard MongoName.isValidCollectionName(self.tasksCollection) else {
            throw ConfigurationError(variable: "MONGODB_TASKS_COLLECTION", reason: "must be a plain collection name")
        }
        self.retry = RetryPolicy(
            base: .milliseconds(try environment.int("TASK_RETRY_BASE_MS", default: 2_000, range: 1...3_600_000)),
            cap: .milliseconds(try environment.int("TASK_RETRY_MAX_MS", default: 3_600_000, range: 1...86_400_000)))
    }
}
