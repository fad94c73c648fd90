import DatabaseLayer
import Hummingbird
import Logging

/// Builds the user data service: PostgreSQL `system_users` and `user_extensions`, MongoDB `user_insights`.
enum UserDataApp {
    static func build(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let configuration = try UserDataConfiguration(environment: environment)
        let runtime = ServiceRuntime(configuration: configuration.http, logger: logger)
        _ = runtime.postgres(configuration.users)
        _ = runtime.postgres(configuration.extensions)
        _ = try runtime.mongo(configuration.insights)
        return runtime.makeApplication(router: runtime.makeRouter())
    }
}
