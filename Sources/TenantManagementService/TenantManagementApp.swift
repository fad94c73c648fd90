import DatabaseLayer
import Hummingbird

/// Builds the tenant management service: the tenant registry in MongoDB, provisioning of tenant databases (MongoDB)
/// and schemas (PostgreSQL), and a Redis read-through cache of tenant lookups.
enum TenantManagementApp: ServiceApplication {
    /// The application, with its stores as services (readiness: `mongodb:<registry>`, `postgres:<database>`, `redis`).
    static func build(configuration: TenantManagementConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        let mongo = try runtime.mongo(configuration.registry)
        let postgres = runtime.postgres(configuration.postgres)
        let manager = TenantManager(
            repository: try MongoTenantRepository(pool: mongo),
            provisioner: TenantProvisioner(mongo: mongo, postgres: postgres),
            cache: runtime.cache(prefix: "tenant:", ttlSeconds: configuration.cacheTTLSeconds),
            metrics: runtime.metrics,
            connectionString: configuration.tenantConnectionString,
            postgresDatabase: configuration.postgres.database
        )
        TenantRoutes(manager: manager, maxPageSize: configuration.http.maxPageSize).add(to: routes)
        return routes
    }
}
