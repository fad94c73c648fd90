import Hummingbird

/// `GET /api/v1/tenants/{id}/databases`: the configuration plus what really exists on the servers.
struct TenantDatabasesResponse: ResponseEncodable, Codable, Sendable {
    /// One database or schema and whether it exists.
    struct Entry: Codable, Sendable, Equatable {
        /// `mongodb` or `postgresql`.
        var type: TenantStoreKind
        /// Name.
        var name: String
        /// Created by provisioning.
        var primary: Bool
        /// Whether the server has it right now.
        var exists: Bool
        /// MongoDB only: its collections, when it exists.
        var collections: [String]?
    }

    /// Tenant id.
    var tenantID: String
    /// Tenant status (an `active` tenant should have every entry `exists: true`).
    var status: TenantStatus
    /// The configuration, masked when the response is built.
    var databaseConfig: TenantDatabaseConfig
    /// Every recorded database and schema, checked against the servers.
    var databases: [Entry]

    enum CodingKeys: String, CodingKey {
        case tenantID = "tenant_id"
        case status
        case databaseConfig = "database_config"
        case databases
    }

    /// Builds the report; the connection string is masked here, once, before anything can encode it.
    init(tenant: Tenant, databases: [TenantDatabaseRecord], entries: [Entry]) {
        self.tenantID = tenant.tenantID
        self.status = tenant.status
        self.databaseConfig = tenant.databaseConfig.listing(databases).masked
        self.databases = entries
    }
}
