import DatabaseLayer

/// The variables of seed 000, "Tenant Management Service".
struct TenantManagementConfiguration: Sendable {
    var http: HTTPServiceConfiguration
    /// `TENANT_MONGODB_URI` + `TENANT_REGISTRY_DB`.
    var registry: MongoConfiguration

    init(environment: ServiceEnvironment) throws(ConfigurationError) {
        self.http = try HTTPServiceConfiguration(
            environment: environment, defaultServiceName: "tenant-mgmt-service", hostVariable: "TENANT_SERVICE_HOST",
            portVariable: "TENANT_SERVICE_PORT", defaultPort: 8501, logLevelVariable: "TENANT_SERVICE_LOG_LEVEL")
        let database = environment.string("TENANT_REGISTRY_DB", default: "tenant_registry")
        guard MongoName.isValidDatabaseName(database) else {
            throw ConfigurationError(variable: "TENANT_REGISTRY_DB", reason: "must be a plain database name")
        }
        self.registry = try MongoConfiguration(
            environment: environment, uriVariable: "TENANT_MONGODB_URI", database: database, applicationName: self.http.serviceName)
    }
}
