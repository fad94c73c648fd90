/// A tenant's database configuration: stored in the registry with the real connection string, returned with it
/// masked and with the tenant's databases and schemas listed.
///
/// One type for both, so the fields and their JSON names exist once; the lists are nil in the registry (they are
/// derived from `tenant_databases` on every read) and are then left out of the stored document.
struct TenantDatabaseConfig: Codable, Sendable, Equatable, CustomStringConvertible {
    /// `shared` or `dedicated`.
    var type: TenantDatabaseType
    /// The tenant's primary MongoDB database (`tenant_<id>_db`).
    var databaseName: String
    /// How clients reach the tenant's MongoDB server; may carry credentials, so it is masked in every response.
    var connectionString: String
    /// The PostgreSQL database that holds the tenant's schemas.
    var postgresDatabase: String
    /// Responses only: every MongoDB database recorded for the tenant.
    var mongodbDatabases: [String]?
    /// Responses only: every PostgreSQL schema recorded for the tenant.
    var postgresqlSchemas: [String]?

    enum CodingKeys: String, CodingKey {
        case type
        case databaseName = "database_name"
        case connectionString = "connection_string"
        case postgresDatabase = "postgres_database"
        case mongodbDatabases = "mongodb_databases"
        case postgresqlSchemas = "postgresql_schemas"
    }

    /// The same configuration with the connection string's credentials replaced by `****` (idempotent).
    var masked: TenantDatabaseConfig {
        var copy = self
        copy.connectionString = ConnectionStringMask.mask(self.connectionString)
        return copy
    }

    /// The configuration with `databases` listed, primaries first, then by name.
    func listing(_ databases: [TenantDatabaseRecord]) -> TenantDatabaseConfig {
        let sorted = databases.sorted { ($0.primary ? 0 : 1, $0.name) < ($1.primary ? 0 : 1, $1.name) }
        var copy = self
        copy.mongodbDatabases = sorted.filter { $0.type == .mongodb }.map(\.name)
        copy.postgresqlSchemas = sorted.filter { $0.type == .postgresql }.map(\.name)
        return copy
    }

    /// Masked, so that interpolating a configuration into a log line can never print a password.
    var description: String {
        let connection = ConnectionStringMask.mask(self.connectionString)
        return "TenantDatabaseConfig(type: \(self.type.rawValue), database: \(self.databaseName), connection: \(connection))"
    }
}
