/// The kind of store a tenant database lives in.
enum TenantStoreKind: String, Codable, Sendable, CaseIterable {
    /// A MongoDB database.
    case mongodb
    /// A PostgreSQL schema.
    case postgresql
}
