import DatabaseLayer
import Foundation
import Hummingbird

/// Where a tenant is in its lifecycle. Only the service moves a tenant between states; clients may only
/// switch between `active` and `suspended` (PUT) or ask for provisioning to be finished (`/provision`).
enum TenantStatus: String, Codable, Sendable, CaseIterable {
    /// Registered; its databases and schemas are being created (or a crash interrupted that: `/provision` resumes).
    case provisioning
    /// Fully provisioned and in service.
    case active
    /// Provisioned but switched off by an operator.
    case suspended
    /// A provisioning step failed; `provisioning_error` says which. `/provision` (or the same create) finishes it.
    case failed
    /// Its databases are being dropped; a failed drop leaves it here with `deletion_error`, and DELETE again finishes.
    case deleting
}

/// Whether a tenant's data lives on the shared servers (a database and schemas of its own) or on a dedicated server.
enum TenantDatabaseType: String, Codable, Sendable {
    /// Its own database and schemas on the servers this service is configured with.
    case shared
    /// A dedicated server; recorded by the model, but this service does not provision dedicated servers (400 on create).
    case dedicated
}

/// The kind of store a tenant database lives in.
enum TenantStoreKind: String, Codable, Sendable, CaseIterable {
    /// A MongoDB database.
    case mongodb
    /// A PostgreSQL schema.
    case postgresql
}

/// A failed step of provisioning or deletion, as recorded on the tenant and returned to clients (no server text).
struct TenantOperationError: Codable, Sendable, Equatable {
    /// The step that failed (`register_databases`, `mongodb_database`, `postgresql_schemas`, `drop_mongodb`, …).
    var step: String
    /// The stable error code of the cause (`unavailable`, `timeout`, `conflict`, `internal_error`, …).
    var code: String
    /// Client-safe message of the cause.
    var message: String
    /// When it happened.
    var occurredAt: Date

    enum CodingKeys: String, CodingKey {
        case step, code, message
        case occurredAt = "occurred_at"
    }
}

/// The tenant's database configuration as stored in the registry (the connection string is stored unmasked).
struct StoredDatabaseConfig: Codable, Sendable, Equatable {
    /// `shared` or `dedicated`.
    var type: TenantDatabaseType
    /// The tenant's primary MongoDB database (`tenant_<id>_db`).
    var databaseName: String
    /// How clients reach the tenant's MongoDB server; may carry credentials, so it is masked in every response.
    var connectionString: String
    /// The PostgreSQL database that holds the tenant's schemas.
    var postgresDatabase: String

    enum CodingKeys: String, CodingKey {
        case type
        case databaseName = "database_name"
        case connectionString = "connection_string"
        case postgresDatabase = "postgres_database"
    }
}

/// One tenant as stored in `<TENANT_REGISTRY_DB>.tenants`.
struct TenantRecord: Codable, Sendable {
    /// The validated tenant id.
    var tenantID: String
    /// Display name, unique ignoring case.
    var name: String
    /// `name` lowercased: the unique index is on this field, so `Acme` and `acme` cannot both exist.
    var nameKey: String
    /// Service tier (free-form token, e.g. `standard`).
    var tier: String
    /// Region token (e.g. `eu-west-1`).
    var region: String
    /// Lifecycle state.
    var status: TenantStatus
    /// Database configuration.
    var databaseConfig: StoredDatabaseConfig
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
        case name
        case nameKey = "name_key"
        case tier, region, status
        case databaseConfig = "database_config"
        case settings
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case provisioningError = "provisioning_error"
        case deletionError = "deletion_error"
    }

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

/// One database or schema that belongs to a tenant, as stored in `<TENANT_REGISTRY_DB>.tenant_databases`.
///
/// Names are global on their server (a MongoDB database name, a schema in one PostgreSQL database), so the unique
/// `database_key` (`<kind>:<name>`) is what stops two tenants, or two racing requests, from claiming one name.
struct TenantDatabaseRecord: Codable, Sendable, Equatable {
    /// `<kind>:<name>`, unique.
    var databaseKey: String
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
        case databaseKey = "database_key"
        case tenantID = "tenant_id"
        case type, name, primary
        case createdAt = "created_at"
    }

    /// Creates a record; the key is derived from kind and name.
    init(tenantID: String, type: TenantStoreKind, name: String, primary: Bool, createdAt: Date) {
        self.databaseKey = "\(type.rawValue):\(name)"
        self.tenantID = tenantID
        self.type = type
        self.name = name
        self.primary = primary
        self.createdAt = createdAt
    }
}

/// The database configuration in responses: credentials masked, with the tenant's databases and schemas listed.
struct TenantDatabaseConfigResponse: Codable, Sendable, Equatable {
    /// `shared` or `dedicated`.
    var type: TenantDatabaseType
    /// The primary MongoDB database.
    var databaseName: String
    /// The connection string with its password (and any secret query parameter) replaced by `****`.
    var connectionString: String
    /// The PostgreSQL database holding the tenant's schemas.
    var postgresDatabase: String
    /// Every MongoDB database recorded for the tenant.
    var mongodbDatabases: [String]
    /// Every PostgreSQL schema recorded for the tenant.
    var postgresqlSchemas: [String]

    enum CodingKeys: String, CodingKey {
        case type
        case databaseName = "database_name"
        case connectionString = "connection_string"
        case postgresDatabase = "postgres_database"
        case mongodbDatabases = "mongodb_databases"
        case postgresqlSchemas = "postgresql_schemas"
    }
}

/// A tenant as the API returns it (and as the Redis cache holds it: already masked).
struct TenantResponse: ResponseEncodable, Codable, Sendable {
    /// Tenant id.
    var tenantID: String
    /// Display name.
    var name: String
    /// Tier.
    var tier: String
    /// Region.
    var region: String
    /// Lifecycle state.
    var status: TenantStatus
    /// Database configuration, masked.
    var databaseConfig: TenantDatabaseConfigResponse
    /// Free JSON settings.
    var settings: JSONObject
    /// Creation time.
    var createdAt: Date
    /// Last change.
    var updatedAt: Date
    /// Present while provisioning has failed.
    var provisioningError: TenantOperationError?
    /// Present when a deletion failed half-way.
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

    /// Builds the response from the stored record and its database records.
    init(record: TenantRecord, databases: [TenantDatabaseRecord]) {
        self.tenantID = record.tenantID
        self.name = record.name
        self.tier = record.tier
        self.region = record.region
        self.status = record.status
        let sorted = databases.sorted { ($0.primary ? 0 : 1, $0.name) < ($1.primary ? 0 : 1, $1.name) }
        self.databaseConfig = TenantDatabaseConfigResponse(
            type: record.databaseConfig.type, databaseName: record.databaseConfig.databaseName,
            connectionString: ConnectionStringMask.mask(record.databaseConfig.connectionString),
            postgresDatabase: record.databaseConfig.postgresDatabase,
            mongodbDatabases: sorted.filter { $0.type == .mongodb }.map(\.name),
            postgresqlSchemas: sorted.filter { $0.type == .postgresql }.map(\.name)
        )
        self.settings = record.settings
        self.createdAt = record.createdAt
        self.updatedAt = record.updatedAt
        self.provisioningError = record.provisioningError
        self.deletionError = record.deletionError
    }
}

/// One tenant database in `GET /api/v1/databases` and the response of `POST /api/v1/databases`.
struct TenantDatabaseResponse: ResponseEncodable, Codable, Sendable, Equatable {
    /// The owning tenant.
    var tenantID: String
    /// `mongodb` or `postgresql`.
    var type: TenantStoreKind
    /// Database or schema name.
    var name: String
    /// Created by provisioning rather than `POST /databases`.
    var primary: Bool
    /// When it was recorded.
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case tenantID = "tenant_id"
        case type, name, primary
        case createdAt = "created_at"
    }

    /// Builds the response from a stored record.
    init(record: TenantDatabaseRecord) {
        self.tenantID = record.tenantID
        self.type = record.type
        self.name = record.name
        self.primary = record.primary
        self.createdAt = record.createdAt
    }
}

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
    /// The masked configuration.
    var databaseConfig: TenantDatabaseConfigResponse
    /// Every recorded database and schema, checked against the servers.
    var databases: [Entry]

    enum CodingKeys: String, CodingKey {
        case tenantID = "tenant_id"
        case status
        case databaseConfig = "database_config"
        case databases
    }
}
