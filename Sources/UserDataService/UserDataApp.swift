import DatabaseLayer
import Foundation
import Hummingbird
import Logging

/// Builds the user data service: PostgreSQL `system_users` (users, tenant membership, preferences, refresh tokens)
/// and `user_extensions`, MongoDB `user_insights`.
enum UserDataApp: ServiceApplication {
    /// Opens the stores, prepares hashing and signing, and mounts ``UserRoutes`` and ``AuthRoutes`` under `/api/v1`.
    static func build(configuration: UserDataConfiguration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let users = runtime.postgres(configuration.users)
        _ = runtime.postgres(configuration.extensions)
        _ = try runtime.mongo(configuration.insights)
        let signer: AccessTokenSigner? =
            if let pem = configuration.privateKeyPEM {
                try await AccessTokenSigner(
                    privateKeyPEM: pem, configuration: configuration.http.bearer, lifetime: configuration.accessTokenLifetime)
            } else {
                nil
            }
        if signer == nil { runtime.logger.warning("JWT_PRIVATE_KEY is not set: login and refresh answer 503") }
        if runtime.redis == nil {
            runtime.logger.warning("REDIS_URL is not set: no login lockout, no user cache, and logout cannot revoke access tokens")
        }
        let ttl = configuration.userCacheTTLSeconds
        let manager = UserManager(
            users: PostgresUserRepository(pool: users),
            refreshTokens: PostgresRefreshTokenStore(pool: users),
            hasher: try await PasswordHasher(cost: configuration.bcryptCost),
            signer: signer,
            throttle: LoginThrottle(
                redis: runtime.redis, limits: configuration.loginLimits, serviceName: configuration.http.serviceName, logger: runtime.logger),
            userCache: ttl > 0 ? runtime.cache(prefix: "user:", ttlSeconds: ttl) : nil,
            memberCache: ttl > 0 ? runtime.cache(prefix: "member:", ttlSeconds: ttl) : nil,
            denyList: runtime.redis,
            refreshTokenLifetime: configuration.refreshTokenLifetime,
            logger: runtime.logger
        )
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.addRoutes(UserRoutes(manager: manager, maxPageSize: configuration.http.maxPageSize).collection, atPath: "/api/v1/users")
        routes.addRoutes(AuthRoutes(manager: manager).collection, atPath: "/api/v1/auth")
        return routes
    }

    /// `Migrations/system_users` (shipped as a resource), applied as `USER_DB_MIGRATION_USER`.
    static func migrations(configuration: UserDataConfiguration) throws -> [ServiceMigrations] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError.invalidSet("the Migrations resource is missing from the user-data-service bundle")
        }
        return [
            ServiceMigrations(
                configuration: configuration.usersMigrations,
                migrations: try PostgresMigrationSet(directory: directory.appendingPathComponent("system_users")))
        ]
    }
}
