import DatabaseLayer

/// The variables of seed 000, "User Data Service".
struct UserDataConfiguration: ServiceConfiguration {
    /// Name, listen variables and log-level variable from the reference.
    static let descriptor = ServiceDescriptor(
        name: "user-data-service", hostVariable: "USER_SERVICE_HOST", portVariable: "USER_SERVICE_PORT", defaultPort: 8502,
        logLevelVariable: "USER_SERVICE_LOG_LEVEL")

    var http: HTTPServiceConfiguration
    /// `USER_DB_*`: the `system_users` database.
    var users: PostgresConfiguration
    /// `POSTGRES_URI`: the `user_extensions` database.
    var extensions: PostgresConfiguration
    /// `MONGODB_URI`: `user_insights` (the database named in the URI, else `user_insights`).
    var insights: MongoConfiguration

    init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError) {
        self.http = http
        let pool = try ConnectionPoolConfiguration.postgres(environment: environment)
        self.users = try PostgresConfiguration(environment: environment, prefix: "USER_DB", applicationName: self.http.serviceName, pool: pool)
            .readingStatementTimeout(from: environment)
        self.extensions = try PostgresConfiguration(
            url: try environment.required("POSTGRES_URI"), variable: "POSTGRES_URI", applicationName: self.http.serviceName, pool: pool
        ).readingStatementTimeout(from: environment)
        let uri = try environment.required("MONGODB_URI")
        self.insights = try MongoConfiguration(
            environment: environment, uriVariable: "MONGODB_URI", database: MongoConfiguration.databaseName(inURI: uri) ?? "user_insights",
            applicationName: self.http.serviceName)
    }
}
