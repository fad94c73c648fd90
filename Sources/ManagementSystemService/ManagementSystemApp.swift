import DatabaseLayer
import Hummingbird
import Logging

/// Builds the management system repository: PostgreSQL `management_system_repository`, MongoDB `config_db`.
enum ManagementSystemApp {
    static func build(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let configuration = try ManagementSystemConfiguration(environment: environment)
        let runtime = ServiceRuntime(configuration: configuration.http, logger: logger)
        _ = runtime.postgres(configuration.systems)
        _ = try runtime.mongo(configuration.config)
        return runtime.makeApplication(router: runtime.makeRouter())
    }
}
