import DatabaseLayer
import Hummingbird

/// Builds the management system repository: PostgreSQL `management_system_repository`, MongoDB `config_db`.
enum ManagementSystemApp: ServiceApplication {
    static func build(configuration: ManagementSystemConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        _ = runtime.postgres(configuration.systems)
        _ = try runtime.mongo(configuration.config)
        return routes
    }
}
