import DatabaseLayer
import Hummingbird
import Logging

/// Builds the tenant management service: the tenant registry in MongoDB, provisioning of tenant databases (MongoDB)
/// and schemas (PostgreSQL), and a Redis read-through cache of tenant lookups.
enum TenantManagementApp {
    /// The application, with its stores as services (readiness: `mongodb:<registry>`, `postgres:<database>`, `redis`).
    static func build(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let configuration = try TenantManagementConfiguration(environment: environment)
        let runtime = ServiceRuntime(configuration: configuration.http, logger: logger)
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
        let router = runtime.makeRouter()
        TenantRoutes(manager: manager, maxPageSize: configuration.http.maxPageSize).add(to: router)
        return runtime.makeApplication(router: router)
    }
}
