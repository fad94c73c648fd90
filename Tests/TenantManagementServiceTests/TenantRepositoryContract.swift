import DatabaseLayerTesting
import Foundation
import Testing

@testable import DatabaseLayer
@testable import TenantManagementService

/// What every ``TenantRepository`` must do, whatever its store: run against each backend by its own suite.
struct TenantRepositoryContract {
    /// A fixed instant with whole seconds, so dates survive any store's millisecond precision unchanged.
    let base = Date(timeIntervalSince1970: 1_700_000_000)

    /// A tenant created `offset` seconds after ``base``.
    func tenant(_ id: String, name: String, tier: String = "gold", status: TenantStatus = .provisioning, offset: TimeInterval = 0) -> Tenant {
        let date = self.base.addingTimeInterval(offset)
        return Tenant(
            tenantID: id, name: name, tier: tier, region: "eu", status: status,
            databaseConfig: TenantDatabaseConfig(
                type: .shared, databaseName: "tenant_\(id)_db", connectionString: "mongodb://u:secret@h/db", postgresDatabase: "tenants"),
            settings: ["theme": ["dark": true]], createdAt: date, updatedAt: date, provisioningError: nil, deletionError: nil)
    }

    /// Runs every clause of the contract on an empty registry.
    func exercise(_ repository: some TenantRepository) async throws {
        try await repository.prepare()
        try await repository.prepare()  // idempotent: every start runs it
        try await self.insertAndGet(repository)
        try await self.statusCompareAndSet(repository)
        try await self.listsPageByKeyset(repository)
        try await self.databaseRecords(repository)
        try await self.removalOnlyWhileDeleting(repository)
    }

    /// Insert, read back by id and by name in any case; a duplicate id or name is a conflict.
    func insertAndGet(_ repository: some TenantRepository) async throws {
        let alpha = self.tenant("c-alpha", name: "Alpha Corp")
        try await repository.insert(alpha)
        #expect(try await repository.tenant(try #require(TenantID("c-alpha"))) == alpha)
        #expect(try await repository.tenant(named: "ALPHA corp")?.tenantID == "c-alpha")
        #expect(try await repository.tenant(try #require(TenantID("c-missing"))) == nil)
        await Self.expectConflict { try await repository.insert(self.tenant("c-alpha", name: "Another")) }
        await Self.expectConflict { try await repository.insert(self.tenant("c-other", name: "alpha CORP")) }
        #expect(try await repository.tenant(named: "Another") == nil)
    }

    /// Status changes apply only from the expected statuses; names stay unique through updates.
    func statusCompareAndSet(_ repository: some TenantRepository) async throws {
        let id = try #require(TenantID("c-alpha"))
        #expect(try await !repository.update(id, whenStatusIn: [.active, .suspended], .status(.suspended)))
        #expect(try await repository.tenant(id)?.status == .provisioning)
        let failure = TenantOperationError(step: "postgresql_schemas", code: "unavailable", message: "down", occurredAt: self.base)
        #expect(try await repository.update(id, whenStatusIn: [.provisioning], TenantChange(status: .failed, provisioningError: failure)))
        #expect(try await repository.tenant(id)?.provisioningError == failure)
        #expect(try await repository.update(id, whenStatusIn: [.provisioning, .failed], TenantChange(status: .active, clearProvisioningError: true)))
        let active = try #require(try await repository.tenant(id))
        #expect(active.status == .active && active.provisioningError == nil && active.updatedAt >= self.base)
        #expect(try await !repository.update(try #require(TenantID("c-missing")), whenStatusIn: nil, .status(.active)))
        try await repository.insert(self.tenant("c-beta", name: "Beta"))
        await Self.expectConflict { _ = try await repository.update(id, whenStatusIn: nil, TenantChange(name: "BETA")) }
        #expect(try await repository.update(id, whenStatusIn: nil, TenantChange(name: "Alpha Renamed", tier: "silver")))
        #expect(try await repository.tenant(named: "alpha renamed")?.tier == "silver")
    }

    /// Oldest first, ties by id; keyset pages return every match exactly once; filters apply on every page.
    func listsPageByKeyset(_ repository: some TenantRepository) async throws {
        // Two share a creation time, so the id has to break the tie; three fall within one second, so the order
        // must hold at millisecond precision (nx-27017 compares dates in filters to the second).
        for (index, offset) in [10, 10.25, 10.25, 10.5, 13].enumerated() {
            try await repository.insert(self.tenant("c-list-\(index)", name: "List \(index)", tier: index < 3 ? "gold" : "plain", offset: offset))
        }
        let all = try await self.pages(repository, filter: TenantListFilter(), limit: 2)
        #expect(all == ["c-alpha", "c-beta", "c-list-0", "c-list-1", "c-list-2", "c-list-3", "c-list-4"])
        #expect(try await self.pages(repository, filter: TenantListFilter(tier: "plain"), limit: 1) == ["c-list-3", "c-list-4"])
        #expect(try await self.pages(repository, filter: TenantListFilter(status: .active), limit: 5) == ["c-alpha"])
        #expect(try await self.pages(repository, filter: TenantListFilter(tier: "none"), limit: 2).isEmpty)
    }

    /// Every id of the list, read page by page through the cursor, as a client would.
    func pages(_ repository: some TenantRepository, filter: TenantListFilter, limit: Int) async throws -> [String] {
        var seen: [String] = []
        var request = PageRequest(limit: limit)
        for _ in 0..<20 {
            let page = Page(rows: try await repository.tenants(filter: filter, page: request), request: request) { $0.pageCursor }
            #expect(page.items.count <= limit)
            seen += page.items.map(\.tenantID)
            guard let next = page.next else { return seen }
            let cursor = PageCursor(token: next)
            #expect(cursor != nil, "next is a token the service parses back")
            request = PageRequest(limit: limit, cursor: cursor)
        }
        Issue.record("more pages than tenants")
        return seen
    }

    /// Database records: unique key across tenants, repeatable for the owner only when allowed, listed by key.
    func databaseRecords(_ repository: some TenantRepository) async throws {
        let alpha = try #require(TenantID("c-alpha"))
        let mongo = TenantDatabaseRecord(tenantID: "c-alpha", type: .mongodb, name: "tenant_c_alpha_db", primary: true, createdAt: self.base)
        let schema = TenantDatabaseRecord(tenantID: "c-alpha", type: .postgresql, name: "tenant_c_alpha_crm", primary: true, createdAt: self.base)
        #expect(try await repository.record(mongo, allowExisting: true))
        #expect(try await repository.record(schema, allowExisting: true))
        #expect(try await !repository.record(mongo, allowExisting: true))
        await Self.expectConflict { try await repository.record(mongo, allowExisting: false) }
        var stolen = mongo
        stolen.tenantID = "c-beta"
        await Self.expectConflict { try await repository.record(stolen, allowExisting: true) }
        // The same name as another kind is a different key.
        let sameNameOtherKind = TenantDatabaseRecord(
            tenantID: "c-beta", type: .postgresql, name: "tenant_c_alpha_db", primary: false, createdAt: self.base)
        #expect(try await repository.record(sameNameOtherKind, allowExisting: false))
        #expect(try await repository.databases(of: alpha) == [mongo, schema])
        let grouped = try await repository.databases(of: ["c-alpha", "c-beta", "c-missing"])
        #expect(grouped["c-alpha"]?.count == 2 && grouped["c-beta"] == [sameNameOtherKind] && grouped["c-missing"] == nil)
        var keys: [String] = []
        var request = PageRequest(limit: 1)
        while true {
            let page = Page(rows: try await repository.databases(filter: TenantDatabaseListFilter(), page: request), request: request) {
                $0.pageCursor
            }
            keys += page.items.map(\.databaseKey)
            guard let next = page.next else { break }
            let cursor = PageCursor(token: next)
            #expect(cursor != nil, "next is a token the service parses back")
            request = PageRequest(limit: 1, cursor: cursor)
        }
        #expect(keys == ["mongodb:tenant_c_alpha_db", "postgresql:tenant_c_alpha_crm", "postgresql:tenant_c_alpha_db"])
        let filtered = try await repository.databases(
            filter: TenantDatabaseListFilter(tenantID: alpha, type: .postgresql), page: PageRequest(limit: 5))
        #expect(filtered == [schema])
        try await repository.removeDatabase(key: sameNameOtherKind.databaseKey)
        #expect(try await repository.databases(of: try #require(TenantID("c-beta"))).isEmpty)
    }

    /// A tenant is only removed while `deleting`, and its database records go with `removeDatabases`.
    func removalOnlyWhileDeleting(_ repository: some TenantRepository) async throws {
        let alpha = try #require(TenantID("c-alpha"))
        #expect(try await !repository.removeTenant(alpha))
        #expect(try await repository.tenant(alpha) != nil)
        #expect(try await repository.update(alpha, whenStatusIn: TenantManager.deletableStatuses, .status(.deleting)))
        let failure = TenantOperationError(step: "drop_mongodb", code: "timeout", message: "slow", occurredAt: self.base)
        #expect(try await repository.update(alpha, whenStatusIn: [.deleting], TenantChange(deletionError: failure)))
        #expect(try await repository.tenant(alpha)?.deletionError == failure)
        try await repository.removeDatabases(of: alpha)
        #expect(try await repository.databases(of: alpha).isEmpty)
        #expect(try await repository.removeTenant(alpha))
        #expect(try await repository.tenant(alpha) == nil)
        #expect(try await !repository.removeTenant(alpha))
    }

    /// Records an issue unless `body` fails with a store conflict.
    static func expectConflict(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("expected a conflict", sourceLocation: sourceLocation)
        } catch let error as DatabaseError {
            #expect(error.code == .conflict, sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a conflict, got \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// The MongoDB repository against each MongoDB stand-in (nx-27017 and SecantusDB).
@Suite(.enabled(if: TestServers.mongoEnabled, TestServers.skipReason))
struct TenantRepositoryIntegrationTests {
    @Test(arguments: TestServers.mongoServers)
    func mongoRepositoryHonoursTheContract(server: MongoTestServer) async throws {
        try await TestDatabases.withMongoDatabase(on: server, prefix: "tenantrepo") { _, pool in
            try await TenantRepositoryContract().exercise(try MongoTenantRepository(pool: pool))
        }
    }
}
