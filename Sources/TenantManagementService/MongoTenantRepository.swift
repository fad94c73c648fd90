import DatabaseLayer
import Foundation

/// The tenant registry in MongoDB: `tenants` (one document per tenant) and `tenant_databases` (one per database or
/// schema a tenant owns).
///
/// Every filter writes `{"$eq": value}` rather than a bare value (nx-27017 skips indexes otherwise), and all
/// uniqueness is enforced by unique indexes, so racing requests resolve in the store, not in this process.
struct MongoTenantRepository: TenantRepository {
    /// `tenants`.
    let tenants: MongoCollection
    /// `tenant_databases`.
    let databases: MongoCollection

    /// The tenant list order: oldest first, ties by id (``Tenant/listKey``), so keyset pages are unambiguous.
    static let tenantOrder = MongoKeyset([.init("list_key")])
    /// The database list order.
    static let databaseOrder = MongoKeyset([.init("database_key")])

    /// Collections in the registry database of `pool`.
    init(pool: MongoClientPool) throws(DatabaseError) {
        self.tenants = try pool.collection("tenants")
        self.databases = try pool.collection("tenant_databases")
    }

    /// Creates the registry's indexes if missing. A startup step: the unique indexes are what make "the same id or
    /// name twice" a 409, so the service takes no request before they exist.
    func prepare() async throws {
        try await self.tenants.createIndexes([
            MongoIndex(name: "tenant_id_unique", keys: ["tenant_id": 1], unique: true),
            MongoIndex(name: "name_key_unique", keys: ["name_key": 1], unique: true),
            MongoIndex(name: "status", keys: ["status": 1]),
            MongoIndex(name: "created_at", keys: ["created_at": 1]),
            MongoIndex(name: "list_key", keys: ["list_key": 1]),
        ])
        // Tenants registered before `list_key` existed get it now, so they stay in the list.
        for tenant in try await self.tenants.find(["list_key": ["$exists": false]], as: Tenant.self) {
            _ = try await self.tenants.updateOne(Self.idFilter(try tenant.id), ["$set": ["list_key": .string(tenant.listKey)]])
        }
        try await self.databases.createIndexes([
            MongoIndex(name: "database_key_unique", keys: ["database_key": 1], unique: true),
            MongoIndex(name: "tenant_id", keys: ["tenant_id": 1]),
        ])
    }

    /// `{"tenant_id": {"$eq": id}}`.
    static func idFilter(_ id: TenantID) -> JSONObject { ["tenant_id": ["$eq": .string(id.rawValue)]] }

    /// The id filter, restricted to tenants in one of `statuses`: the compare-and-set of every state change.
    static func idFilter(_ id: TenantID, statuses: [TenantStatus]) -> JSONObject {
        ["tenant_id": ["$eq": .string(id.rawValue)], "status": ["$in": .array(statuses.map { .string($0.rawValue) })]]
    }

    // MARK: tenants

    /// Inserts the tenant with its derived `name_key`, which the unique index compares.
    func insert(_ tenant: Tenant) async throws {
        var document = try JSONObject(encoding: tenant)
        document["name_key"] = .string(tenant.nameKey)
        document["list_key"] = .string(tenant.listKey)
        try await self.tenants.insertOne(document)
    }

    /// The tenant with `id`, if any.
    func tenant(_ id: TenantID) async throws -> Tenant? {
        try await self.tenants.findOne(Self.idFilter(id), as: Tenant.self)
    }

    /// The tenant whose `name_key` matches `name`, if any.
    func tenant(named name: String) async throws -> Tenant? {
        try await self.tenants.findOne(["name_key": ["$eq": .string(Tenant.nameKey(name))]], as: Tenant.self)
    }

    /// One page of tenants matching `filter`, oldest first (up to `page.limit + 1` rows; see ``Page``).
    func tenants(filter: TenantListFilter, page: PageRequest) async throws -> [Tenant] {
        var query = JSONObject()
        if let status = filter.status { query["status"] = ["$eq": .string(status.rawValue)] }
        if let tier = filter.tier { query["tier"] = ["$eq": .string(tier)] }
        if let region = filter.region { query["region"] = ["$eq": .string(region)] }
        return try await self.tenants.find(
            try Self.tenantOrder.filter(query, after: page.cursor),
            options: MongoFindOptions(sort: Self.tenantOrder.sort, limit: page.limit + 1),
            as: Tenant.self)
    }

    /// Applies `change` as `$set`/`$unset` with the status compare-and-set; `updated_at` is always set.
    func update(_ id: TenantID, whenStatusIn statuses: [TenantStatus]?, _ change: TenantChange) async throws -> Bool {
        var set: JSONObject = ["updated_at": .date(Date())]
        if let name = change.name {
            set["name"] = .string(name)
            set["name_key"] = .string(Tenant.nameKey(name))
        }
        if let tier = change.tier { set["tier"] = .string(tier) }
        if let region = change.region { set["region"] = .string(region) }
        if let settings = change.settings { set["settings"] = .object(settings) }
        if let status = change.status { set["status"] = .string(status.rawValue) }
        if let failure = change.provisioningError { set["provisioning_error"] = .object(try JSONObject(encoding: failure)) }
        if let failure = change.deletionError { set["deletion_error"] = .object(try JSONObject(encoding: failure)) }
        var update: JSONObject = ["$set": .object(set)]
        if change.clearProvisioningError { update["$unset"] = ["provisioning_error": ""] }
        let filter = statuses.map { Self.idFilter(id, statuses: $0) } ?? Self.idFilter(id)
        return try await self.tenants.updateOne(filter, update).matchedCount == 1
    }

    /// Removes the tenant's registry entry, only while it is `deleting`.
    func removeTenant(_ id: TenantID) async throws -> Bool {
        try await self.tenants.deleteOne(Self.idFilter(id, statuses: [.deleting])) == 1
    }

    // MARK: databases

    /// The databases and schemas recorded for `id`.
    func databases(of id: TenantID) async throws -> [TenantDatabaseRecord] {
        try await self.databases.find(
            ["tenant_id": ["$eq": .string(id.rawValue)]], options: .init(sort: ["database_key": 1]), as: TenantDatabaseRecord.self)
    }

    /// The databases and schemas recorded for several tenants (one query for a page of tenants).
    func databases(of ids: [String]) async throws -> [String: [TenantDatabaseRecord]] {
        guard !ids.isEmpty else { return [:] }
        let records = try await self.databases.find(["tenant_id": ["$in": .array(ids.map { .string($0) })]], as: TenantDatabaseRecord.self)
        return Dictionary(grouping: records, by: \.tenantID)
    }

    /// One page of all tenant databases, ordered by key (up to `page.limit + 1` rows).
    func databases(filter: TenantDatabaseListFilter, page: PageRequest) async throws -> [TenantDatabaseRecord] {
        var query = JSONObject()
        if let id = filter.tenantID { query["tenant_id"] = ["$eq": .string(id.rawValue)] }
        if let type = filter.type { query["type"] = ["$eq": .string(type.rawValue)] }
        return try await self.databases.find(
            try Self.databaseOrder.filter(query, after: page.cursor),
            options: MongoFindOptions(sort: Self.databaseOrder.sort, limit: page.limit + 1),
            as: TenantDatabaseRecord.self)
    }

    /// Inserts the record with its derived `database_key`; see ``TenantRepository/record(_:allowExisting:)``.
    @discardableResult
    func record(_ database: TenantDatabaseRecord, allowExisting: Bool) async throws -> Bool {
        var document = try JSONObject(encoding: database)
        document["database_key"] = .string(database.databaseKey)
        do {
            try await self.databases.insertOne(document)
            return true
        } catch let error as DatabaseError where error.code == .conflict {
            let existing = try await self.databases.findOne(
                ["database_key": ["$eq": .string(database.databaseKey)]], as: TenantDatabaseRecord.self)
            if allowExisting, existing?.tenantID == database.tenantID { return false }
            throw error
        }
    }

    /// Forgets one database record.
    func removeDatabase(key: String) async throws {
        _ = try await self.databases.deleteOne(["database_key": ["$eq": .string(key)]])
    }

    /// Forgets every database record of `id`.
    func removeDatabases(of id: TenantID) async throws {
        _ = try await self.databases.deleteMany(["tenant_id": ["$eq": .string(id.rawValue)]])
    }
}
