import DatabaseLayer
import Hummingbird

/// Builds the category repository service: MongoDB `category_repository`.
enum CategoryRepositoryApp: ServiceApplication {
    static func build(configuration: CategoryRepositoryConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext>
    {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        _ = try runtime.mongo(configuration.mongo)
        return routes
    }
}
