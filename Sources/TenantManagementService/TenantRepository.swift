import DatabaseLayer

/// The tenant registry: tenants and the databases they own.
///
/// Every state change is a compare-and-set on `status`, and uniqueness (id, name ignoring case, database name) is
/// the store's job, so racing requests resolve in the store rather than in one process. Duplicates throw
/// ``DatabaseError`` with code `conflict`. `TenantRepositoryContract` in the tests states the behaviour every
/// implementation must have.
protocol TenantRepository: Sendable {
    /// Creates what the store needs before the first write (unique indexes); idempotent. Runs as a startup step.
    func prepare() async throws
    /// Inserts a new tenant; a duplicate id or name (ignoring case) is a conflict.
    func insert(_ tenant: Tenant) async throws
    /// The tenant with `id`, if any.
    func tenant(_ id: TenantID) async throws -> Tenant?
    /// The tenant whose name is `name` ignoring case, if any.
    func tenant(named name: String) async throws -> Tenant?
    /// Up to `page.limit + 1` tenants matching `filter` after `page.cursor`, oldest first, ties by id.
    func tenants(filter: TenantListFilter, page: PageRequest) async throws -> [Tenant]
    /// Applies `change` when the tenant's status is one of `statuses` (any when nil); returns whether it matched.
    func update(_ id: TenantID, whenStatusIn statuses: [TenantStatus]?, _ change: TenantChange) async throws -> Bool
    /// Removes the tenant, only while it is `deleting`; returns whether it was removed.
    func removeTenant(_ id: TenantID) async throws -> Bool
    /// The databases recorded for `id`, by key.
    func databases(of id: TenantID) async throws -> [TenantDatabaseRecord]
    /// The databases recorded for several tenants, grouped by tenant id.
    func databases(of ids: [String]) async throws -> [String: [TenantDatabaseRecord]]
    /// Up to `page.limit + 1` database records matching `filter` after `page.cursor`, by key.
    func databases(filter: TenantDatabaseListFilter, page: PageRequest) async throws -> [TenantDatabaseRecord]
    /// Records a database. The same database for the same tenant again is a no-op when `allowExisting` (so
    /// provisioning can repeat); otherwise, or when another tenant holds the name, it is a conflict.
    /// - Returns: true when this call created the record.
    @discardableResult
    func record(_ database: TenantDatabaseRecord, allowExisting: Bool) async throws -> Bool
    /// Forgets one database record.
    func removeDatabase(key: String) async throws
    /// Forgets every database record of `id`.
    func removeDatabases(of id: TenantID) async throws
}
