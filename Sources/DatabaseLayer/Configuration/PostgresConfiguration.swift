import Foundation

/// How to reach one PostgreSQL database and how to size its pool.
public struct PostgresConfiguration: Sendable {
    /// Server host name or address.
    public var host: String
    /// Server port.
    public var port: Int
    /// Login role.
    public var user: String
    /// Password; empty when the server trusts the client. Never logged.
    public var password: String
    /// Database name.
    public var database: String
    /// `application_name` shown in `pg_stat_activity`, which is how operators and tests find our connections.
    public var applicationName: String
    /// Pool sizing and timeouts.
    public var pool: ConnectionPoolConfiguration
    /// Server-side `statement_timeout`; 0 disables it.
    public var statementTimeoutMilliseconds: Int
    /// Connect timeout in seconds.
    public var connectTimeoutSeconds: Int

    /// Creates a configuration from parts.
    public init(
        host: String, port: Int = 5432, user: String, password: String = "", database: String,
        applicationName: String = "prismicx", pool: ConnectionPoolConfiguration = .init(),
        statementTimeoutMilliseconds: Int = 30_000, connectTimeoutSeconds: Int = 5
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.applicationName = applicationName
        self.pool = pool
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// Parses `postgresql://user:password@host:port/database`; `variable` names the source in errors.
    public init(url: String, variable: String, applicationName: String, pool: ConnectionPoolConfiguration) throws(ConfigurationError) {
        guard let components = URLComponents(string: url), components.scheme == "postgresql" || components.scheme == "postgres",
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError(variable: variable, reason: "must be a postgresql://user:password@host:port/database URL")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, let user = components.user, !user.isEmpty else {
            throw ConfigurationError(variable: variable, reason: "must name a user and a database")
        }
        self.init(
            host: host, port: components.port ?? 5432, user: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding ?? "", database: database.removingPercentEncoding ?? database,
            applicationName: applicationName, pool: pool
        )
    }

    /// Reads the discrete `<PREFIX>_HOST/_PORT/_USER/_PASSWORD/_NAME` variables (e.g. `USER_DB_*`, `SYSTEM_DB_*`).
    public init(environment: ServiceEnvironment, prefix: String, applicationName: String, pool: ConnectionPoolConfiguration)
        throws(ConfigurationError)
    {
        self.init(
            host: try environment.required("\(prefix)_HOST"),
            port: try environment.port("\(prefix)_PORT", default: 5432),
            user: try environment.required("\(prefix)_USER"),
            password: environment.string("\(prefix)_PASSWORD") ?? "",
            database: try environment.required("\(prefix)_NAME"),
            applicationName: applicationName, pool: pool
        )
    }

    /// libpq keyword/value pairs; passed as arrays so no value is ever quoted into a conninfo string.
    /// Reads `PG_STATEMENT_TIMEOUT_MS` (default 30000). It is sent as the `options` startup parameter, which
    /// pgbouncer 1.18 refuses: behind pgbouncer set it to 0 and give the role a default instead
    /// (`ALTER ROLE … SET statement_timeout`, as deploy/postgres/init.sql does).
    public func readingStatementTimeout(from environment: ServiceEnvironment) throws(ConfigurationError) -> PostgresConfiguration {
        var configuration = self
        configuration.statementTimeoutMilliseconds = try environment.int(
            "PG_STATEMENT_TIMEOUT_MS", default: self.statementTimeoutMilliseconds, range: 0...3_600_000)
        return configuration
    }

    var connectionParameters: [(String, String)] {
        var parameters = [
            ("host", self.host), ("port", String(self.port)), ("user", self.user), ("dbname", self.database),
            ("application_name", self.applicationName), ("connect_timeout", String(self.connectTimeoutSeconds)),
            ("client_encoding", "UTF8"),
        ]
        if !self.password.isEmpty { parameters.append(("password", self.password)) }
        if self.statementTimeoutMilliseconds > 0 {
            parameters.append(("options", "-c statement_timeout=\(self.statementTimeoutMilliseconds)"))
        }
        return parameters
    }
}

/// Pool sizing shared by the PostgreSQL and Redis pools.
public struct ConnectionPoolConfiguration: Sendable {
    /// Connections opened at start and kept.
    public var minimumConnections: Int
    /// Upper bound on open connections.
    public var maximumConnections: Int
    /// How long a caller waits for a connection before getting a 503-mapped error.
    public var acquisitionTimeout: Duration

    /// Creates a pool configuration; `maximumConnections` is at least 1 and at least `minimumConnections`.
    public init(minimumConnections: Int = 1, maximumConnections: Int = 10, acquisitionTimeout: Duration = .seconds(5)) {
        self.maximumConnections = max(1, maximumConnections)
        self.minimumConnections = min(max(0, minimumConnections), self.maximumConnections)
        self.acquisitionTimeout = acquisitionTimeout
    }

    /// Reads `PG_POOL_MIN`, `PG_POOL_MAX` and `PG_POOL_TIMEOUT_MS`.
    public static func postgres(environment: ServiceEnvironment) throws(ConfigurationError) -> ConnectionPoolConfiguration {
        let maximum = try environment.int("PG_POOL_MAX", default: 10, range: 1...500)
        return ConnectionPoolConfiguration(
            minimumConnections: try environment.int("PG_POOL_MIN", default: 1, range: 0...maximum),
            maximumConnections: maximum,
            acquisitionTimeout: .milliseconds(try environment.int("PG_POOL_TIMEOUT_MS", default: 5000, range: 1...600_000))
        )
    }
}
