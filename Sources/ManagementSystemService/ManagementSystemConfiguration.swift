import DatabaseLayer
import Foundation

/// The variables of seed 000, "Management System Repository".
struct ManagementSystemConfiguration: ServiceConfiguration {
    /// Name, listen variables and log-level variable from the reference.
    static let descriptor = ServiceDescriptor(name: "management-system-repo", defaultPort: 8080)

    var http: HTTPServiceConfiguration
    /// `SYSTEM_DB_*`: PostgreSQL `management_system_repository`.
    var systems: PostgresConfiguration
    /// `CONFIG_DB_*`: MongoDB `config_db`.
    var config: MongoConfiguration

    init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError) {
        self.http = http
        self.systems = try PostgresConfiguration(
            environment: environment, prefix: "SYSTEM_DB", applicationName: self.http.serviceName,
            pool: try ConnectionPoolConfiguration.postgres(environment: environment)
        ).readingStatementTimeout(from: environment)
        // The reference gives the config store as parts, not a URI: assemble one, percent-encoding the credentials.
        let host = try environment.required("CONFIG_DB_HOST")
        let port = try environment.port("CONFIG_DB_PORT", default: 27017)
        let database = try environment.databaseName("CONFIG_DB_NAME", default: "config_db")
        guard !host.contains(where: { "/@?#,".contains($0) }) else {
            throw ConfigurationError(variable: "CONFIG_DB_HOST", reason: "must be a host name or address")
        }
        var credentials = ""
        if let user = environment.string("CONFIG_DB_USER"), !user.isEmpty {
            let allowed = CharacterSet.urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/?#[]"))
            let password = environment.string("CONFIG_DB_PASSWORD") ?? ""
            credentials = "\(user.addingPercentEncoding(withAllowedCharacters: allowed) ?? user):"
                + "\(password.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")@"
        }
        self.config = try MongoConfiguration(
            uri: "mongodb://\(credentials)\(host):\(port)/\(database)", database: database,
            maximumConnections: try environment.int("MONGO_POOL_MAX", default: 10, range: 1...500),
            timeoutMilliseconds: try environment.int("MONGO_TIMEOUT_MS", default: 5000, range: 100...600_000),
            applicationName: self.http.serviceName, variable: "CONFIG_DB_HOST")
    }
}
