public import Hummingbird
public import Logging
public import ServiceLifecycle

/// Assembles one service: its stores (as `Service`s with readiness checks), metrics, the optional Redis, and the
/// HTTP application with the shared middleware. A service's `buildApplication` creates one and adds its routes.
public final class ServiceRuntime {
    /// The shared HTTP settings.
    public let configuration: HTTPServiceConfiguration
    /// The service logger.
    public let logger: Logger
    /// The Prometheus registry behind `/metrics`.
    public let metrics: ServiceMetrics
    /// Redis, when `REDIS_URL` is set.
    public let redis: RedisPool?
    /// Indexes, migrations and other work that must finish before the service takes traffic.
    public let startup: StartupWork
    /// Verifies user bearer tokens; nil until ``enableBearerTokens()`` found a `JWT_PUBLIC_KEY`.
    public private(set) var bearerTokens: BearerTokenVerifier?
    private var services: [any Service] = []
    private var checks: [ReadinessCheck] = []
    private var hasStartupSteps = false

    /// Creates the runtime; connects nothing yet.
    public init(configuration: HTTPServiceConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let metrics = ServiceMetrics()
        self.metrics = metrics
        self.redis = configuration.redis.map { RedisPool(configuration: $0, logger: logger, metrics: metrics) }
        self.startup = StartupWork(logger: logger)
    }

    /// Loads `JWT_PUBLIC_KEY` into the verifier that the authentication middleware uses (with the deny-list in
    /// Redis when `REDIS_URL` is set). Without it, bearer tokens get 401 and only `X-API-Key` works.
    public func enableBearerTokens() async throws {
        self.bearerTokens = try await BearerTokenVerifier(configuration: self.configuration.bearer, denyList: self.redis, logger: self.logger)
    }

    /// Adds a startup step (ensure indexes, migrate): readiness stays 503 and business requests get `503 starting`
    /// until every step has succeeded; a failing step is retried.
    public func addStartupStep(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.startup.add(name, body)
        self.hasStartupSteps = true
    }

    /// A PostgreSQL pool that runs with the service and is checked by `/health/ready` as `postgres:<database>`.
    public func postgres(_ configuration: PostgresConfiguration) -> PostgresPool {
        let pool = PostgresPool(configuration: configuration, logger: self.logger, metrics: self.metrics)
        self.services.append(pool)
        self.checks.append(ReadinessCheck(name: "postgres:\(configuration.database)") { try await pool.ping() })
        return pool
    }

    /// A MongoDB pool that runs with the service and is checked by `/health/ready` as `mongodb:<database>`.
    public func mongo(_ configuration: MongoConfiguration) throws -> MongoClientPool {
        let pool = try MongoClientPool(configuration: configuration, logger: self.logger, metrics: self.metrics)
        self.services.append(pool)
        self.checks.append(ReadinessCheck(name: "mongodb:\(configuration.database)") { try await pool.ping() })
        return pool
    }

    /// Another `Service` to run with the application (started before the server, stopped after it drains).
    public func addService(_ service: some Service) {
        self.services.append(service)
    }

    /// A read-through cache namespace in Redis, or nil when Redis is not configured.
    public func cache(prefix: String, ttlSeconds: Int) -> RedisCache? {
        self.redis.map {
            RedisCache(
                redis: $0, prefix: "\(self.configuration.serviceName):\(prefix)", ttlSeconds: ttlSeconds, logger: self.logger, metrics: self.metrics)
        }
    }

    /// The router with the shared middleware (request id and logging, metrics, problem+json, 405 for undeclared
    /// methods, API key or bearer token, tenant, rate limit, body limit) and the health and metrics routes; the service adds its routes.
    public func makeRouter() -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestLoggingMiddleware())
        router.add(middleware: MetricsMiddleware(metrics: self.metrics))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(routes: RouteMethodTable(router: router)))
        router.add(middleware: AuthenticationMiddleware(apiKey: self.configuration.apiKey, bearer: self.bearerTokens))
        router.add(middleware: TenantMiddleware())
        if self.hasStartupSteps { router.add(middleware: StartupGateMiddleware(work: self.startup)) }
        if let redis = self.redis, self.configuration.rateLimitPerMinute > 0 {
            router.add(middleware: RateLimitMiddleware(redis: redis, limitPerMinute: self.configuration.rateLimitPerMinute))
        }
        router.add(middleware: BodyLimitMiddleware(maxBytes: self.configuration.maxBodySize))
        var checks = self.checks
        if self.hasStartupSteps { checks.append(self.startup.readinessCheck) }
        // Optional: the cache and the rate limit fail open, so a Redis outage degrades the service but does not stop it.
        if let redis = self.redis { checks.append(ReadinessCheck(name: "redis", critical: false) { try await redis.ping() }) }
        HealthRoutes.add(to: router, serviceName: self.configuration.serviceName, checks: checks, metrics: self.metrics)
        return router
    }

    /// The application: stores start before the server and stop after it has drained (ServiceGroup order).
    public func makeApplication(router: Router<ServiceRequestContext>) -> some ApplicationProtocol {
        var services = self.services
        if let redis = self.redis { services.append(redis) }
        // Last: the stores it needs are started by then; it stops first, before them.
        if self.hasStartupSteps { services.append(self.startup) }
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(self.configuration.host, port: self.configuration.port), serverName: self.configuration.serviceName),
            services: services,
            logger: self.logger
        )
    }
}
