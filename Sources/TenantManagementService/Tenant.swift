import DatabaseLayer
import Foundation

/// One tenant: the registry document in `<TENANT_REGISTRY_DB>.tenants` and, wrapped in ``TenantResponse``, the API body.
///
/// The registry additionally stores `name_key` (the lowercased name, under a unique index); it is derived, so it is
/// not a field here: ``MongoTenantRepository`` writes it, and responses never show it.
struct Tenant: Codable, Sendable, Equatable {
    /// The validated tenant id.
    var tenantID: String
    /// Display name, unique ignoring case.
    var name: String
    /// Service tier (free-form token, e.g. `standard`).
    var tier: String
    /// Region token (e.g. `eu-west-1`).
    var region: String
    /// Lifecycle state.
    var status: TenantStatus
    /// Database configuration (the connection string unmasked: mask through ``TenantResponse``).
    var databaseConfig: TenantDatabaseConfig
    /// Free JSON settings.
    var settings: JSONObject
    /// Server-set creation time.
    var createdAt: Date
    /// Server-set time of the last change.
    var updatedAt: Date
    /// The last provisioning failure; removed once provisioning succeeds.
    var provisioningError: TenantOperationError?
    /// The last deletion failure (status `deleting`).
    var deletionError: TenantOperationError?

    enum CodingKeys: String, CodingKey {
        case tenantID = "tenant_id"
        case name, tier, region, status
        case databaseConfig = "database_config"
        case settings
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case provisioningError = "provisioning_error"
        case deletionError = "deletion_error"
    }

    /// `name` lowercased: what the unique index compares, so `Acme` and `acme` cannot both exist.
    var nameKey: String { Self.nameKey(self.name) }

    /// The uniqueness key of a display name.
    static func nameKey(_ name: String) -> String { name.lowercased() }

    /// The list order as one string: creation time in milliseconds (zero-padded, so strings sort as numbers),
    /// then the id. One string key rather than (date, id), because nx-27017 compares dates in `$gt`/`$eq`
    /// filters to the second, which made date-keyed pages repeat and skip tenants created within one second.
    var listKey: String {
        let milliseconds = String(Int64((self.createdAt.timeIntervalSince1970 * 1000).rounded()))
        return String(repeating: "0", count: max(0, 15 - milliseconds.count)) + milliseconds + ":" + self.tenantID
    }

    /// Where a keyset page that ends with this tenant stops (oldest first, ties by id).
    var pageCursor: PageCursor { PageCursor(values: [.string(self.listKey)]) }

    /// The validated id (the registry only ever stores validated ids).
    var id: TenantID {
        get throws(DatabaseError) {
            guard let id = TenantID(self.tenantID) else {
                throw DatabaseError(.internalError, "The tenant registry holds an invalid record.", debugDetails: "invalid tenant_id in registry")
            }
            return id
        }
    }
}
