public import Logging

/// Settings every service shares: where it listens, its API key, limits, logging and the optional Redis.
public struct HTTPServiceConfiguration: Sendable {
    /// `SERVICE_NAME`: used in logs, metrics and `application_name`.
    public var serviceName: String
    /// Bind address.
    public var host: String
    /// Bind port.
    public var port: Int
    /// The shared secret clients send as `X-API-Key`. Never logged.
    public var apiKey: String
    /// Log level.
    public var logLevel: Logger.Level
    /// `LOG_FORMAT=json` selects one JSON object per line.
    public var jsonLogs: Bool
    /// `MAX_PAGE_SIZE`: the largest page any list endpoint returns.
    public var maxPageSize: Int
    /// `MAX_BODY_SIZE`: the largest request body accepted, in bytes (413 beyond).
    public var maxBodySize: Int
    /// `RATE_LIMIT_PER_MINUTE`: requests per tenant (or per client when no tenant is sent) per minute; 0 disables. Needs Redis.
    public var rateLimitPerMinute: Int
    /// `REDIS_URL`, when set.
    public var redis: RedisConfiguration?
    /// `JWT_PUBLIC_KEY`, `JWT_ISSUER`, `JWT_AUDIENCE`: user bearer tokens.
    public var bearer: BearerTokenConfiguration

    /// Reads the shared variables; the host, port and log-level variable names come from the service's descriptor,
    /// because they differ per service in the reference.
    public init(environment: ServiceEnvironment, descriptor: ServiceDescriptor) throws(ConfigurationError) {
        self.serviceName = environment.string("SERVICE_NAME", default: descriptor.name)
        self.host = environment.string(descriptor.hostVariable, default: "0.0.0.0")
        self.port = try environment.port(descriptor.portVariable, default: descriptor.defaultPort)
        // No default key: a service without one would accept anybody, so it refuses to start instead (DESIGN §4).
        self.apiKey = try environment.required("API_KEY")
        guard self.apiKey.utf8.count >= 8 else {
            throw ConfigurationError(variable: "API_KEY", reason: "must be at least 8 characters")
        }
        let levelVariable = descriptor.effectiveLogLevelVariable(in: environment)
        let levelText = environment.string(levelVariable, default: "info")
        guard let level = Self.logLevel(levelText) else {
            throw ConfigurationError(variable: levelVariable, reason: "must be one of TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL")
        }
        self.logLevel = level
        self.jsonLogs = environment.string("LOG_FORMAT", default: "text").lowercased() == "json"
        self.maxPageSize = try environment.int("MAX_PAGE_SIZE", default: 100, range: 1...10_000)
        self.maxBodySize = try environment.int("MAX_BODY_SIZE", default: 1_048_576, range: 1024...67_108_864)
        self.rateLimitPerMinute = try environment.int("RATE_LIMIT_PER_MINUTE", default: 0, range: 0...10_000_000)
        self.redis = try RedisConfiguration.optional(environment: environment)
        self.bearer = try BearerTokenConfiguration(environment: environment)
    }

    /// Parses the reference's level names (`INFO`, `WARNING`, …) case-insensitively.
    public static func logLevel(_ text: String) -> Logger.Level? {
        switch text.lowercased() {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "notice": .notice
        case "warn", "warning": .warning
        case "error": .error
        case "critical", "fatal": .critical
        default: nil
        }
    }
}
