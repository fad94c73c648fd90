import DatabaseLayer
import Hummingbird

/// Builds the tenant management service: the tenant registry in MongoDB, provisioning of tenant databases (MongoDB)
/// and schemas (PostgreSQL), and a Redis read-through cache of tenant lookups.
enum TenantManagementApp: ServiceApplication {
    /// The routes, with the stores as services (readiness: `mongodb:<registry>`, `postgres:<database>`, `redis`,
    /// `startup`) and the registry's indexes as a startup step.
    static func build(configuration: TenantManagementConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let mongo = try runtime.mongo(configuration.registry)
        let postgres = runtime.postgres(configuration.postgres)
        let repository = try MongoTenantRepository(pool: mongo)
        // The unique indexes make a duplicate id or name a 409, so no request is served before they exist.
        runtime.addStartupStep("mongodb indexes") { try await repository.prepare() }
        let manager = TenantManager(
            repository: repository,
            provisioner: TenantProvisioner(mongo: mongo, postgres: postgres),
            cache: runtime.cache(prefix: "tenant:", ttlSeconds: configuration.cacheTTLSeconds),
            metrics: runtime.metrics,
            connectionString: configuration.tenantConnectionString,
            postgresDatabase: configuration.postgres.database
        )
        let tenantRoutes = TenantRoutes(manager: manager, maxPageSize: configuration.http.maxPageSize)
        // Tenants are created and provisioned by the platform's services only: a user token gets 403.
        let routes = RouteCollection(context: ServiceRequestContext.self).add(middleware: ServiceCallersOnlyMiddleware())
        routes.addRoutes(tenantRoutes.tenants, atPath: "/api/v1/tenants")
        routes.addRoutes(tenantRoutes.databases, atPath: "/api/v1/databases")
        return routes
    }
}
