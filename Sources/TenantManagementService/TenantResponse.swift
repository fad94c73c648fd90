import DatabaseLayer
import Hummingbird

/// A tenant as the API returns it (and as the Redis cache holds it): the ``Tenant`` with its databases listed and
/// its connection string masked.
///
/// The mask is applied in `encode(to:)`, the only way a response leaves the process, so no code path can send or
/// cache the stored connection string; masking is idempotent, so a cached (already masked) answer is unchanged.
@dynamicMemberLookup
struct TenantResponse: ResponseEncodable, Codable, Sendable {
    /// The tenant, its configuration listing its databases.
    var tenant: Tenant

    /// Builds the response from the stored tenant and its database records.
    init(tenant: Tenant, databases: [TenantDatabaseRecord]) {
        var tenant = tenant
        tenant.databaseConfig = tenant.databaseConfig.listing(databases)
        self.tenant = tenant
    }

    /// Reads a response (from the cache, or in tests) as a tenant.
    init(from decoder: any Decoder) throws {
        self.tenant = try Tenant(from: decoder)
    }

    /// Writes the tenant with `database_config.connection_string` masked.
    func encode(to encoder: any Encoder) throws {
        var masked = self.tenant
        masked.databaseConfig = masked.databaseConfig.masked
        try masked.encode(to: encoder)
    }

    /// The tenant's fields (`response.status`, `response.databaseConfig`).
    subscript<Value>(dynamicMember keyPath: KeyPath<Tenant, Value>) -> Value { self.tenant[keyPath: keyPath] }
}
