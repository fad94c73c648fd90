import DatabaseLayer
import Foundation
import Synchronization

/// The tenant registry in MongoDB: `tenants` (one document per tenant) and `tenant_databases` (one per database or
/// schema a tenant owns).
///
/// Every filter writes `{"$eq": value}` rather than a bare value (nx-27017 skips indexes otherwise), and all
/// uniqueness is enforced by unique indexes, so racing requests resolve in the store, not in this process.
struct MongoTenantRepository: Sendable {
    /// `tenants`.
    let tenants: MongoCollection
    /// `tenant_databases`.
    let databases: MongoCollection
    private let indexesEnsured: IndexGate

    /// Collections in the registry database of `pool`.
    init(pool: MongoClientPool) throws(DatabaseError) {
        self.tenants = try pool.collection("tenants")
        self.databases = try pool.collection("tenant_databases")
        self.indexesEnsured = IndexGate()
    }

    /// Remembers that the indexes exist, so they are created once per process and not on every write.
    final class IndexGate: Sendable {
        private let done = Mutex(false)
        /// Whether the indexes have been ensured.
        var isDone: Bool { self.done.withLock { $0 } }
        /// Records that they have.
        func markDone() { self.done.withLock { $0 = true } }
    }

    /// Creates the registry's indexes if missing. Called before every write until it has succeeded once: the unique
    /// indexes are what make "the same id or name twice" a 409, so no tenant may be written before they exist.
    func ensureIndexes() async throws {
        if self.indexesEnsured.isDone { return }
        try await self.tenants.createIndexes([
            MongoIndex(name: "tenant_id_unique", keys: ["tenant_id": 1], unique: true),
            MongoIndex(name: "name_key_unique", keys: ["name_key": 1], unique: true),
            MongoIndex(name: "status", keys: ["status": 1]),
            MongoIndex(name: "created_at", keys: ["created_at": 1]),
        ])
        try await self.databases.createIndexes([
            MongoIndex(name: "database_key_unique", keys: ["database_key": 1], unique: true),
            MongoIndex(name: "tenant_id", keys: ["tenant_id": 1]),
        ])
        self.indexesEnsured.markDone()
    }

    /// `{"tenant_id": {"$eq": id}}`.
    static func idFilter(_ id: TenantID) -> JSONObject { ["tenant_id": ["$eq": .string(id.rawValue)]] }

    /// The id filter, restricted to tenants in one of `statuses`: the compare-and-set of every state change.
    static func idFilter(_ id: TenantID, statuses: [TenantStatus]) -> JSONObject {
        ["tenant_id": ["$eq": .string(id.rawValue)], "status": ["$in": .array(statuses.map { .string($0.rawValue) })]]
    }

    // MARK: tenants

    /// Inserts a new tenant; a duplicate id or name throws ``DatabaseError/Code/conflict``.
    func insert(_ record: TenantRecord) async throws {
        try await self.tenants.insertOne(JSONObject(encoding: record))
    }

    /// The tenant with `id`, if any.
    func tenant(_ id: TenantID) async throws -> TenantRecord? {
        try await self.tenants.findOne(Self.idFilter(id)).map { try $0.decode(TenantRecord.self) }
    }

    /// The tenant whose lowercased name is `nameKey`, if any.
    func tenant(nameKey: String) async throws -> TenantRecord? {
        try await self.tenants.findOne(["name_key": ["$eq": .string(nameKey)]]).map { try $0.decode(TenantRecord.self) }
    }

    /// The tenant list order: oldest first, ties by id, so keyset pages are unambiguous.
    static let tenantOrder = MongoKeyset([.init("created_at"), .init("tenant_id")])
    /// The database list order.
    static let databaseOrder = MongoKeyset([.init("database_key")])

    /// One page of tenants matching `filter`, oldest first (up to `page.limit + 1` rows; see ``Page``).
    func tenants(filter: TenantListFilter, page: PageRequest) async throws -> [TenantRecord] {
        var query = JSONObject()
        if let status = filter.status { query["status"] = ["$eq": .string(status.rawValue)] }
        if let tier = filter.tier { query["tier"] = ["$eq": .string(tier)] }
        if let region = filter.region { query["region"] = ["$eq": .string(region)] }
        let documents = try await self.tenants.find(
            try Self.tenantOrder.filter(query, after: page.cursor),
            options: MongoFindOptions(sort: Self.tenantOrder.sort, limit: page.limit + 1))
        return try documents.map { try $0.decode(TenantRecord.self) }
    }

    /// Applies `$set`/`$unset` to the tenant when its status is one of `statuses` (any status when nil);
    /// returns whether a document matched. `updated_at` is always set.
    func update(_ id: TenantID, whenStatusIn statuses: [TenantStatus]?, set: JSONObject, unset: [String] = []) async throws -> Bool {
        var set = set
        set["updated_at"] = .date(Date())
        var update: JSONObject = ["$set": .object(set)]
        if !unset.isEmpty { update["$unset"] = .object(JSONObject(unset.map { ($0, JSONValue.string("")) })) }
        let filter = statuses.map { Self.idFilter(id, statuses: $0) } ?? Self.idFilter(id)
        return try await self.tenants.updateOne(filter, update).matchedCount == 1
    }

    /// Removes the tenant's registry entry, only while it is `deleting`; returns whether it was removed.
    func removeTenant(_ id: TenantID) async throws -> Bool {
        try await self.tenants.deleteOne(Self.idFilter(id, statuses: [.deleting])) == 1
    }

    // MARK: databases

    /// The databases and schemas recorded for `id`.
    func databases(of id: TenantID) async throws -> [TenantDatabaseRecord] {
        try await self.databases.find(["tenant_id": ["$eq": .string(id.rawValue)]], options: .init(sort: ["database_key": 1]))
            .map { try $0.decode(TenantDatabaseRecord.self) }
    }

    /// The databases and schemas recorded for several tenants (one query for a page of tenants).
    func databases(of ids: [String]) async throws -> [String: [TenantDatabaseRecord]] {
        guard !ids.isEmpty else { return [:] }
        let records = try await self.databases.find(["tenant_id": ["$in": .array(ids.map { .string($0) })]])
            .map { try $0.decode(TenantDatabaseRecord.self) }
        return Dictionary(grouping: records, by: \.tenantID)
    }

    /// One page of all tenant databases, ordered by name (up to `page.limit + 1` rows).
    func databases(filter: TenantDatabaseListFilter, page: PageRequest) async throws -> [TenantDatabaseRecord] {
        var query = JSONObject()
        if let id = filter.tenantID { query["tenant_id"] = ["$eq": .string(id.rawValue)] }
        if let type = filter.type { query["type"] = ["$eq": .string(type.rawValue)] }
        let documents = try await self.databases.find(
            try Self.databaseOrder.filter(query, after: page.cursor),
            options: MongoFindOptions(sort: Self.databaseOrder.sort, limit: page.limit + 1))
        return try documents.map { try $0.decode(TenantDatabaseRecord.self) }
    }

    /// Records a database for its tenant. Recording the same database for the same tenant again is a no-op (so
    /// provisioning can be repeated); a name another tenant holds throws ``DatabaseError/Code/conflict``.
    /// - Returns: true when this call created the record.
    @discardableResult
    func record(_ database: TenantDatabaseRecord, allowExisting: Bool) async throws -> Bool {
        do {
            try await self.databases.insertOne(JSONObject(encoding: database))
            return true
        } catch let error as DatabaseError where error.code == .conflict {
            let existing = try await self.databases.findOne(["database_key": ["$eq": .string(database.databaseKey)]])
                .map { try $0.decode(TenantDatabaseRecord.self) }
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
