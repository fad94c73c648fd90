import DatabaseLayer
import Foundation
import Hummingbird

/// One database or schema that belongs to a tenant: the document in `<TENANT_REGISTRY_DB>.tenant_databases`, and
/// the item of `GET /api/v1/databases` and the body of `POST /api/v1/databases`.
///
/// Names are global on their server (a MongoDB database name, a schema in one PostgreSQL database), so the unique
/// `database_key` (`<kind>:<name>`) is what stops two tenants, or two racing requests, from claiming one name. The
/// key is derived, so the repository writes it and responses leave it out.
struct TenantDatabaseRecord: ResponseEncodable, Codable, Sendable, Equatable {
    /// The owning tenant.
    var tenantID: String
    /// MongoDB database or PostgreSQL schema.
    var type: TenantStoreKind
    /// The database or schema name.
    var name: String
    /// Whether provisioning created it (the tenant's `tenant_<id>_db` and plugin schemas) rather than `POST /databases`.
    var primary: Bool
    /// When it was recorded.
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case tenantID = "tenant_id"
        case type, name, primary
        case createdAt = "created_at"
    }

    /// `<kind>:<name>`: unique in the registry, and the list's sort key.
    var databaseKey: String { Self.key(type: self.type, name: self.name) }

    /// Where a keyset page that ends with this record stops: the list order is the unique key.
    var pageCursor: PageCursor { PageCursor(values: [.string(self.databaseKey)]) }

    /// The key of a database of `type` named `name`.
    static func key(type: TenantStoreKind, name: String) -> String { "\(type.rawValue):\(name)" }
}
