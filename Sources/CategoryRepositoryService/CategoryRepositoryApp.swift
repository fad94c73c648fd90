import DatabaseLayer
import Hummingbird
import Logging

/// Builds the category repository service: MongoDB `category_repository`.
enum CategoryRepositoryApp {
    static func build(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let configuration = try CategoryRepositoryConfiguration(environment: environment)
        let runtime = ServiceRuntime(configuration: configuration.http, logger: logger)
        _ = try runtime.mongo(configuration.mongo)
        return runtime.makeApplication(router: runtime.makeRouter())
    }
}
