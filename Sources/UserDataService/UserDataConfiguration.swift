import DatabaseLayer

/// The variables of seed 000, "User Data Service", plus the authentication settings of the user-data issue.
struct UserDataConfiguration: ServiceConfiguration {
    /// Name, listen variables and log-level variable from the reference.
    static let descriptor = ServiceDescriptor(
        name: "user-data-service", hostVariable: "USER_SERVICE_HOST", portVariable: "USER_SERVICE_PORT", defaultPort: 8502,
        logLevelVariable: "USER_SERVICE_LOG_LEVEL")

    var http: HTTPServiceConfiguration
    /// `USER_DB_*`: the `system_users` database, as the role that serves requests.
    var users: PostgresConfiguration
    /// `USER_DB_MIGRATION_USER`/`_PASSWORD` (default: the `USER_DB_*` role): who applies the migrations. In
    /// production the database owner, so the serving role does not own the tables row-level security guards.
    var usersMigrations: PostgresConfiguration
    /// `POSTGRES_URI`: the `user_extensions` database.
    var extensions: PostgresConfiguration
    /// `MONGODB_URI`: `user_insights` (the database named in the URI, else `user_insights`).
    var insights: MongoConfiguration
    /// `JWT_PRIVATE_KEY`: the ES256 key that signs access tokens; without it login answers 503.
    var privateKeyPEM: String?
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 900).
    var accessTokenLifetime: Duration
    /// `REFRESH_TOKEN_TTL_SECONDS` (default 30 days).
    var refreshTokenLifetime: Duration
    /// `BCRYPT_COST` (default 12).
    var bcryptCost: Int
    /// `USER_CACHE_TTL_SECONDS` (default 300): the Redis `user:<id>` read-through cache; 0 turns it off.
    var userCacheTTLSeconds: Int
    /// Failed-login limits (`LOGIN_MAX_FAILURES_PER_ACCOUNT`, `LOGIN_MAX_FAILURES_PER_CLIENT`, `LOGIN_FAILURE_WINDOW_SECONDS`).
    var loginLimits: LoginLimits

    init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError) {
        self.http = http
        let pool = try ConnectionPoolConfiguration.postgres(environment: environment)
        self.users = try PostgresConfiguration(environment: environment, prefix: "USER_DB", applicationName: self.http.serviceName, pool: pool)
            .readingStatementTimeout(from: environment)
        var migrations = self.users
        if let user = environment.string("USER_DB_MIGRATION_USER"), !user.isEmpty {
            migrations.user = user
            migrations.password = environment.string("USER_DB_MIGRATION_PASSWORD") ?? ""
        }
        self.usersMigrations = migrations
        self.extensions = try PostgresConfiguration(
            url: try environment.required("POSTGRES_URI"), variable: "POSTGRES_URI", applicationName: self.http.serviceName, pool: pool
        ).readingStatementTimeout(from: environment)
        let uri = try environment.required("MONGODB_URI")
        self.insights = try MongoConfiguration(
            environment: environment, uriVariable: "MONGODB_URI", database: MongoConfiguration.databaseName(inURI: uri) ?? "user_insights",
            applicationName: self.http.serviceName)
        self.privateKeyPEM = environment.string("JWT_PRIVATE_KEY").flatMap { $0.isEmpty ? nil : $0 }
        self.accessTokenLifetime = .seconds(try environment.int("ACCESS_TOKEN_TTL_SECONDS", default: 900, range: 60...86_400))
        self.refreshTokenLifetime = .seconds(try environment.int("REFRESH_TOKEN_TTL_SECONDS", default: 2_592_000, range: 300...31_536_000))
        // 4 is bcrypt's minimum; above 15 one login costs seconds of CPU.
        self.bcryptCost = try environment.int("BCRYPT_COST", default: 12, range: 4...15)
        self.userCacheTTLSeconds = try environment.int("USER_CACHE_TTL_SECONDS", default: 300, range: 0...86_400)
        self.loginLimits = LoginLimits(
            perAccount: try environment.int("LOGIN_MAX_FAILURES_PER_ACCOUNT", default: 5, range: 1...1000),
            perClient: try environment.int("LOGIN_MAX_FAILURES_PER_CLIENT", default: 50, range: 1...100_000),
            windowSeconds: try environment.int("LOGIN_FAILURE_WINDOW_SECONDS", default: 900, range: 10...86_400))
    }
}

/// How many failed logins lock an account or a client address, and for how long the failures count.
struct LoginLimits: Sendable {
    /// Failures on one account within the window before further attempts get 429.
    var perAccount: Int
    /// Failures from one client address within the window before further attempts get 429.
    var perClient: Int
    /// The window, in seconds.
    var windowSeconds: Int
}
