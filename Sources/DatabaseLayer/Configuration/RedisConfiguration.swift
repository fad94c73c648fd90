import Foundation

/// How to reach Redis, parsed from `REDIS_URL` (`redis://[:password@]host[:port][/db]`).
public struct RedisConfiguration: Sendable {
    /// Server host.
    public var host: String
    /// Server port.
    public var port: Int
    /// Password for `AUTH`; never logged.
    public var password: String?
    /// Username for `AUTH` (Redis 6 ACLs), when the URL names one.
    public var username: String?
    /// Logical database selected after connecting.
    public var database: Int
    /// Pool sizing.
    public var pool: ConnectionPoolConfiguration
    /// Connect and command timeout.
    public var timeout: Duration

    /// Parses a `redis://` URL; `variable` names the source in errors.
    public init(url: String, variable: String = "REDIS_URL", pool: ConnectionPoolConfiguration = .init(minimumConnections: 0, maximumConnections: 8))
        throws(ConfigurationError)
    {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else {
            throw ConfigurationError(variable: variable, reason: "must be a redis://[:password@]host[:port][/db] URL")
        }
        let path = components.path.drop(while: { $0 == "/" })
        guard let database = path.isEmpty ? 0 : Int(path), database >= 0 else {
            throw ConfigurationError(variable: variable, reason: "has an invalid database number")
        }
        self.host = host
        self.port = components.port ?? 6379
        let user = components.user?.removingPercentEncoding
        self.username = (user?.isEmpty ?? true) ? nil : user
        self.password = components.password?.removingPercentEncoding
        self.database = database
        self.pool = pool
        self.timeout = .seconds(2)
    }

    /// Reads `REDIS_URL` (optional) and `REDIS_POOL_MAX`; nil when the URL is unset.
    public static func optional(environment: ServiceEnvironment) throws(ConfigurationError) -> RedisConfiguration? {
        guard let url = environment.string("REDIS_URL"), !url.isEmpty else { return nil }
        let maximum = try environment.int("REDIS_POOL_MAX", default: 8, range: 1...256)
        return try RedisConfiguration(url: url, pool: .init(minimumConnections: 0, maximumConnections: maximum))
    }
}
