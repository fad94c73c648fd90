/// Whether a tenant's data lives on the shared servers (a database and schemas of its own) or on a dedicated server.
enum TenantDatabaseType: String, Codable, Sendable {
    /// Its own database and schemas on the servers this service is configured with.
    case shared
    /// A dedicated server; recorded by the model, but this service does not provision dedicated servers (400 on create).
    case dedicated
}
