import DatabaseLayer
import Hummingbird

/// Builds the user data service: PostgreSQL `system_users` and `user_extensions`, MongoDB `user_insights`.
enum UserDataApp: ServiceApplication {
    static func build(configuration: UserDataConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        _ = runtime.postgres(configuration.users)
        _ = runtime.postgres(configuration.extensions)
        _ = try runtime.mongo(configuration.insights)
        return routes
    }
}
