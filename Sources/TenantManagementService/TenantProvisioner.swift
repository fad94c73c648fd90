import DatabaseLayer
import Foundation

/// Creates and drops a tenant's MongoDB databases and PostgreSQL schemas. Every operation is idempotent, so a
/// provisioning or deletion that stopped half-way can simply be run again.
struct TenantProvisioner: Sendable {
    /// The tenant MongoDB server (the registry's server: `TENANT_MONGODB_URI`).
    let mongo: MongoClientPool
    /// The PostgreSQL database that holds tenant schemas (`TENANT_POSTGRES_URI`).
    let postgres: PostgresPool

    /// The plugin schemas every tenant gets (seed 002, "Creating a New Tenant").
    static let plugins = ["crm", "sales", "marketing"]

    /// The primary collection of a tenant database and its indexes (seed 002).
    static let insightsCollection = "user_insights"
    /// Indexes of `user_insights`; compared by key in tests because nx-27017 renames indexes.
    static let insightsIndexes = [
        MongoIndex(name: "user_id_unique", keys: ["user_id": 1], unique: true),
        MongoIndex(name: "topics_name", keys: ["topics.name": 1]),
        MongoIndex(name: "updated_at", keys: ["updated_at": 1]),
    ]
    /// The collection an additional MongoDB database is created with: MongoDB only lists a database once it holds
    /// a collection, and this one says whose it is.
    static let metadataCollection = "tenant_metadata"

    /// Namespace of the transaction-level advisory locks that serialise DDL per tenant (an arbitrary constant).
    static let advisoryLockNamespace = 7_301

    /// The database records provisioning creates for `id`: its `tenant_<id>_db` and the plugin schemas.
    static func primaryDatabases(of id: TenantID, at date: Date) throws(DatabaseError) -> [TenantDatabaseRecord] {
        var records = [TenantDatabaseRecord(tenantID: id.rawValue, type: .mongodb, name: id.mongoDatabaseName, primary: true, createdAt: date)]
        for plugin in Self.plugins {
            records.append(
                TenantDatabaseRecord(
                    tenantID: id.rawValue, type: .postgresql, name: try id.postgresSchemaName(plugin: plugin).name, primary: true, createdAt: date))
        }
        return records
    }

    // MARK: MongoDB

    /// Creates a tenant's primary database: `user_insights` with its indexes.
    func ensurePrimaryMongoDatabase(_ name: String) async throws {
        try await self.ensureCollection(Self.insightsCollection, database: name)
        try await self.mongo.collection(Self.insightsCollection, database: name).createIndexes(Self.insightsIndexes)
    }

    /// Creates an additional database with its `tenant_metadata` collection and one document naming the tenant.
    func ensureAdditionalMongoDatabase(_ name: String, tenant: TenantID) async throws {
        try await self.ensureCollection(Self.metadataCollection, database: name)
        let metadata = try self.mongo.collection(Self.metadataCollection, database: name)
        if try await metadata.count() == 0 {
            try await metadata.insertOne(["tenant_id": .string(tenant.rawValue), "database": .string(name), "created_at": .date(Date())])
        }
    }

    /// `create`, treating "already exists" (NamespaceExists, 48) as success so a repeat or a racing request is harmless.
    private func ensureCollection(_ collection: String, database: String) async throws {
        do {
            _ = try await self.mongo.runCommand(["create": .string(collection)], database: database)
        } catch let error as DatabaseError where error.serverCode == 48 {
            return
        }
    }

    /// Drops a MongoDB database (a missing one is not an error).
    func dropMongoDatabase(_ name: String) async throws {
        try await self.mongo.dropDatabase(name)
    }

    /// Which of `names` exist on the MongoDB server, each with its collections.
    ///
    /// A database exists for MongoDB exactly when it holds a collection, so this asks each database for its
    /// collections instead of listing every database: that needs only rights on the tenant's own databases, and
    /// does not trip over other databases being dropped at the same moment.
    func existingMongoDatabases(among names: [String]) async throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for name in names {
            let collections = try await self.mongo.collectionNames(database: name)
            if !collections.isEmpty { result[name] = collections.sorted() }
        }
        return result
    }

    // MARK: PostgreSQL

    /// `CREATE SCHEMA IF NOT EXISTS` for each schema, in one transaction under the tenant's advisory lock.
    ///
    /// The lock matters: two concurrent `CREATE SCHEMA IF NOT EXISTS` of one name can still fail with a unique
    /// violation on `pg_namespace`, and provisioning may legitimately run twice at once (create and `/provision`).
    func ensureSchemas(_ schemas: [SQLIdentifier], tenant: TenantID) async throws {
        try await self.postgres.withTransaction(operation: "create_schema") { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [Self.advisoryLockNamespace, tenant.rawValue])
            for schema in schemas {
                // Identifiers cannot be bound as parameters; SQLIdentifier has validated and quotes the name.
                try connection.query("CREATE SCHEMA IF NOT EXISTS \(schema.quoted)")
            }
        }
    }

    /// `DROP SCHEMA IF EXISTS … CASCADE` for all of `schemas` in one transaction under the tenant's advisory lock:
    /// either every schema is gone or none is.
    func dropSchemas(_ schemas: [SQLIdentifier], tenant: TenantID) async throws {
        guard !schemas.isEmpty else { return }
        try await self.postgres.withTransaction(operation: "drop_schema") { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [Self.advisoryLockNamespace, tenant.rawValue])
            try connection.query("DROP SCHEMA IF EXISTS \(schemas.map(\.quoted).joined(separator: ", ")) CASCADE")
        }
    }

    /// Which of `schemas` exist in the PostgreSQL database.
    func existingSchemas(among schemas: [String]) async throws -> Set<String> {
        guard !schemas.isEmpty else { return [] }
        let rows = try await self.postgres.query(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])",
            // Names are validated identifiers ([a-z0-9_]), so this array literal needs no quoting; it is still a bound value.
            ["{" + schemas.joined(separator: ",") + "}"], operation: "list_schemas")
        return Set(try rows.map { row throws(DatabaseError) in try row.decode("nspname", as: String.self) })
    }
}
