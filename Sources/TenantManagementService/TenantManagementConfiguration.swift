import DatabaseLayer

/// The variables of seed 000, "Tenant Management Service", plus `TENANT_POSTGRES_URI` for tenant schemas.
struct TenantManagementConfiguration: ServiceConfiguration {
    /// Name, listen variables and log-level variable from the reference.
    static let descriptor = ServiceDescriptor(
        name: "tenant-mgmt-service", hostVariable: "TENANT_SERVICE_HOST", portVariable: "TENANT_SERVICE_PORT", defaultPort: 8501,
        logLevelVariable: "TENANT_SERVICE_LOG_LEVEL")

    /// Shared HTTP settings (`TENANT_SERVICE_HOST`, `TENANT_SERVICE_PORT`, `TENANT_SERVICE_LOG_LEVEL`, `SERVICE_NAME`, …).
    var http: HTTPServiceConfiguration
    /// `TENANT_MONGODB_URI` + `TENANT_REGISTRY_DB`: the registry, on the server where tenant databases are created.
    var registry: MongoConfiguration
    /// `TENANT_POSTGRES_URI` + `PG_POOL_*`: the PostgreSQL database where tenant schemas are created.
    var postgres: PostgresConfiguration
    /// `TENANT_DB_CONNECTION_STRING`: what the registry records as a tenant's `connection_string` (default: the
    /// `TENANT_MONGODB_URI` itself). Stored as given; masked in every response.
    var tenantConnectionString: String
    /// `TENANT_CACHE_TTL_SECONDS`: how long `GET /tenants/{id}` answers may be served from Redis.
    var cacheTTLSeconds: Int

    /// Reads and validates the variables; a ``ConfigurationError`` names the variable, never its value.
    init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError) {
        self.http = http
        let database = try environment.databaseName("TENANT_REGISTRY_DB", default: "tenant_registry")
        self.registry = try MongoConfiguration(
            environment: environment, uriVariable: "TENANT_MONGODB_URI", database: database, applicationName: self.http.serviceName)
        // Required: without it no tenant could be provisioned, so the service refuses to start rather than fail later.
        self.postgres = try PostgresConfiguration(
            url: try environment.required("TENANT_POSTGRES_URI"), variable: "TENANT_POSTGRES_URI", applicationName: self.http.serviceName,
            pool: try ConnectionPoolConfiguration.postgres(environment: environment)
        ).readingStatementTimeout(from: environment)
        let connection = environment.string("TENANT_DB_CONNECTION_STRING", default: self.registry.uri)
        guard connection.hasPrefix("mongodb://") || connection.hasPrefix("mongodb+srv://") else {
            throw ConfigurationError(variable: "TENANT_DB_CONNECTION_STRING", reason: "must be a mongodb:// connection string")
        }
        self.tenantConnectionString = connection
        self.cacheTTLSeconds = try environment.int("TENANT_CACHE_TTL_SECONDS", default: 60, range: 1...86_400)
    }
}
