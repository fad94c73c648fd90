import DatabaseLayer
import Hummingbird
import Logging

/// Builds the task repository service: MongoDB `task_repository`.
enum TaskRepositoryApp {
    static func build(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let configuration = try TaskRepositoryConfiguration(environment: environment)
        let runtime = ServiceRuntime(configuration: configuration.http, logger: logger)
        _ = try runtime.mongo(configuration.mongo)
        return runtime.makeApplication(router: runtime.makeRouter())
    }
}
