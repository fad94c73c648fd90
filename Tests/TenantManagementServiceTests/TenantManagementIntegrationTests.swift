import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import TenantManagementService

/// Failure recovery, races, the cache, lists and startup, against real servers.
@Suite(.enabled(if: TestServers.mongoEnabled && TestServers.postgresEnabled, TestServers.skipReason))
struct TenantManagementIntegrationTests {
    /// PostgreSQL unreachable: the tenant is left `failed` with the error; once PostgreSQL is back, `/provision`
    /// (and, for a second tenant, the same create again) finishes without duplicating anything.
    @Test func provisioningFailureIsRecoverable() async throws {
        let server = try TestServers.primaryMongo()
        let id = tenantTestID()
        let second = tenantTestID()
        let tenant = try #require(TenantID(id))
        let prefix = String(tenant.mongoDatabaseName.dropLast(2))
        try await withTenantRegistry(server: server, ids: [id, second]) { registry, probe in
            // 1. PostgreSQL down (the startup work needs only MongoDB, so the service still starts).
            try await tenantApp(server: server, registry: registry, postgresURI: tenantDeadPostgresURI).testWhenStarted { client async throws in
                let created = try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: id, name: "Failing \(id)"))
                #expect(created.status == 503)
                #expect(created.headers[.retryAfter] != nil)
                let problem = try created.problem()
                #expect(problem.code == "provisioning_failed")
                #expect(problem.detail.contains(id) && problem.detail.contains("/provision"))
                let failed = try await client.call(.get, "/api/v1/tenants/\(id)").decode(TenantResponse.self)
                #expect(failed.status == .failed)
                #expect(failed.provisioningError?.step == "postgresql_schemas")
                #expect(failed.provisioningError?.code == "unavailable")
                // Still down: provisioning again fails the same way.
                #expect(try await client.call(.post, "/api/v1/tenants/\(id)/provision").status == 503)
                // A failed tenant cannot be activated through PUT.
                #expect(try await client.call(.put, "/api/v1/tenants/\(id)", body: ["status": "active"]).status == 409)
                #expect(try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: second, name: "Second \(second)")).status == 503)
            }
            #expect(try await probe.registryTenant(id)?["status"] == "failed")
            #expect(try await probe.schemas(prefix: prefix).isEmpty)

            // 2. PostgreSQL back (a service instance that reaches it, on the same registry).
            try await tenantApp(server: server, registry: registry).testWhenReady(.router) { client async throws in
                let provisioned = try await client.call(.post, "/api/v1/tenants/\(id)/provision")
                #expect(provisioned.status == 200)
                let body = try provisioned.decode(TenantResponse.self)
                #expect(body.status == .active && body.provisioningError == nil)
                // Idempotent: provisioning an active tenant again changes nothing.
                #expect(try await client.call(.post, "/api/v1/tenants/\(id)/provision").status == 200)
                // The same create again finishes the second tenant; then it is a plain duplicate.
                let resumed = try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: second, name: "Second \(second)"))
                #expect(resumed.status == 201)
                #expect(try resumed.decode(TenantResponse.self).status == .active)
                #expect(try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: second, name: "Second \(second)")).status == 409)
                let report = try await client.call(.get, "/api/v1/tenants/\(id)/databases").decode(TenantDatabasesResponse.self)
                #expect(report.databases.count == 4 && report.databases.allSatisfy { $0.exists })
            }
            // Nothing duplicated: one registry entry, four database records, the seed's indexes once each.
            #expect(try await probe.mongo.collection("tenants").count(["tenant_id": ["$eq": .string(id)]]) == 1)
            #expect(try await probe.mongo.collection("tenant_databases").count(["tenant_id": ["$eq": .string(id)]]) == 4)
            let indexes = try await probe.mongo.collection("user_insights", database: tenant.mongoDatabaseName).indexes()
            #expect(indexes.count == 4, "_id plus the three of seed 002")
            #expect(try await probe.schemas(prefix: prefix).count == 3)

            // 3. Deleting while PostgreSQL is down fails half-way: MongoDB is dropped, the tenant stays `deleting`.
            // (An application runs its pools once: each block gets a freshly built one.)
            try await tenantApp(server: server, registry: registry, postgresURI: tenantDeadPostgresURI).testWhenStarted { client async throws in
                let deleted = try await client.call(.delete, "/api/v1/tenants/\(id)")
                #expect(deleted.status == 503)
                #expect(deleted.code == "deletion_failed")
                let stuck = try await client.call(.get, "/api/v1/tenants/\(id)").decode(TenantResponse.self)
                #expect(stuck.status == .deleting && stuck.deletionError?.step == "drop_postgresql")
                #expect(try await client.call(.put, "/api/v1/tenants/\(id)", body: ["tier": "gold"]).status == 409)
                #expect(try await client.call(.post, "/api/v1/tenants/\(id)/provision").status == 409)
            }
            #expect(try await !probe.mongoDatabaseExists(tenant.mongoDatabaseName))
            #expect(try await probe.schemas(prefix: prefix).count == 3)
            try await tenantApp(server: server, registry: registry).testWhenReady(.router) { client async throws in
                #expect(try await client.call(.delete, "/api/v1/tenants/\(id)").status == 204)
                #expect(try await client.call(.delete, "/api/v1/tenants/\(second)").status == 204)
            }
            #expect(try await probe.schemas(prefix: prefix).isEmpty)
            #expect(try await probe.registryTenant(id) == nil)
        }
    }

    /// Bearer tokens are verified, and a valid user token (even an admin's) is refused with 403: tenants are managed
    /// by service callers only.
    @Test func userTokensAreVerifiedThenRefused() async throws {
        let server = try TestServers.primaryMongo()
        try await withTenantRegistry(server: server) { registry, _ in
            try await ServiceBoot.checkBearerTokens(path: "/api/v1/tenants", waitUntilReady: true) { extra in
                try await tenantApp(server: server, registry: registry, extra: extra)
            } validStatus: { $0 == 403 }
        }
    }

    /// Many creates of one tenant at once (same id, or same name): exactly one 201, the rest 409.
    @Test func concurrentCreatesOfOneTenant() async throws {
        let server = try TestServers.primaryMongo()
        let id = tenantTestID()
        try await withTenantService(server: server, ids: [id]) { client, probe async throws in
            /// Sends all `bodies` at once; the status of each, with the id of the created tenant.
            func race(_ bodies: [JSONValue]) async throws -> [(Int, String?)] {
                try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for body in bodies {
                        group.addTask {
                            let reply = try await client.call(.post, "/api/v1/tenants", body: body)
                            return (reply.status, reply.status == 201 ? try reply.decode(TenantResponse.self).tenantID : nil)
                        }
                    }
                    var results: [(Int, String?)] = []
                    for try await result in group { results.append(result) }
                    return results
                }
            }
            let sameID = try await race(Array(repeating: tenantCreateBody(id: id, name: "Race \(id)"), count: 8))
            #expect(sameID.filter { $0.0 == 201 }.count == 1)
            #expect(sameID.filter { $0.0 == 409 }.count == 7)
            let sameName = try await race((0..<6).map { _ in tenantCreateBody(id: tenantTestID(), name: "Name race \(id)") })
            #expect(sameName.filter { $0.0 == 201 }.count == 1)
            #expect(sameName.filter { $0.0 == 409 }.count == 5)
            #expect(try await probe.mongo.collection("tenants").count() == 2)
            #expect(try await probe.mongo.collection("tenants").count(["tenant_id": ["$eq": .string(id)]]) == 1)
            for tenant in (sameID + sameName).compactMap(\.1) { #expect(try await client.call(.delete, "/api/v1/tenants/\(tenant)").status == 204) }
        }
    }

    /// `GET /tenants/{id}` is cached in Redis; PUT and DELETE invalidate it.
    @Test(.enabled(if: TestServers.redisEnabled, TestServers.skipReason))
    func cacheIsInvalidatedOnWrites() async throws {
        let server = try TestServers.primaryMongo()
        let id = tenantTestID()
        try await withTenantService(server: server, ids: [id]) { client, probe async throws in
            #expect(
                try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: id, name: "Cached \(id)", tier: "basic")).status == 201)
            #expect(try await client.call(.get, "/api/v1/tenants/\(id)").decode(TenantResponse.self).tier == "basic")
            // Changed behind the service's back: the cached answer is still served, which shows the cache is used.
            _ = try await probe.mongo.collection("tenants").updateOne(["tenant_id": ["$eq": .string(id)]], ["$set": ["tier": "sneaky"]])
            let cached = try await client.call(.get, "/api/v1/tenants/\(id)")
            #expect(try cached.decode(TenantResponse.self).tier == "basic")
            #expect(cached.body.contains("****") || !cached.body.contains("@"), "the cached answer is masked too")
            // PUT invalidates.
            #expect(try await client.call(.put, "/api/v1/tenants/\(id)", body: ["tier": "premium", "status": "suspended"]).status == 200)
            let afterPut = try await client.call(.get, "/api/v1/tenants/\(id)").decode(TenantResponse.self)
            #expect(afterPut.tier == "premium" && afterPut.status == .suspended)
            // DELETE invalidates: no stale tenant after it.
            #expect(try await client.call(.delete, "/api/v1/tenants/\(id)").status == 204)
            #expect(try await client.call(.get, "/api/v1/tenants/\(id)").status == 404)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"cache_requests_total{result="hit"}"#))
        }
    }

    /// Keyset pages through both lists (every item exactly once, in order), filters, and the page-size clamp.
    /// The list shape changed on purpose from `{items,total,limit,offset}` to `{items,limit,next}`.
    @Test func listsArePaginatedAndFiltered() async throws {
        let server = try TestServers.primaryMongo()
        let ids = (0..<5).map { _ in tenantTestID() }
        try await withTenantService(server: server, extra: ["MAX_PAGE_SIZE": "3"], ids: ids) { client, _ async throws in
            for (index, id) in ids.enumerated() {
                let body = tenantCreateBody(
                    id: id, name: "Page \(id)", tier: index < 3 ? "gold" : "silver", region: index.isMultiple(of: 2) ? "eu" : "us")
                #expect(try await client.call(.post, "/api/v1/tenants", body: body).status == 201)
            }
            /// Follows `next` from the first page to the last; the items of every page, in order.
            func allPages<Item: Decodable>(_ path: String, as: Item.Type, limit: Int) async throws -> [Item] {
                var items: [Item] = []
                var cursor: String?
                for _ in 0..<30 {
                    let separator = path.contains("?") ? "&" : "?"
                    let uri = path + separator + "limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let page = try await client.call(.get, uri).decode(TenantTestPage<Item>.self)
                    #expect(page.limit == limit && page.items.count <= limit)
                    items += page.items
                    guard let next = page.next else { return items }
                    #expect(!page.items.isEmpty, "a page with a next cursor is never empty")
                    cursor = next
                }
                Issue.record("the cursor did not reach the last page")
                return items
            }
            let seen = try await allPages("/api/v1/tenants", as: TenantResponse.self, limit: 2).map(\.tenantID)
            #expect(seen == ids, "oldest first, every tenant exactly once")
            let clamped = try await client.call(.get, "/api/v1/tenants?limit=1000").decode(TenantTestPage<TenantResponse>.self)
            #expect(clamped.limit == 3 && clamped.items.count == 3 && clamped.next != nil)
            let gold = try await allPages("/api/v1/tenants?tier=gold&region=eu", as: TenantResponse.self, limit: 1)
            #expect(gold.map(\.tenantID) == [ids[0], ids[2]])
            #expect(try await allPages("/api/v1/tenants?status=active", as: TenantResponse.self, limit: 3).count == 5)
            #expect(try await allPages("/api/v1/tenants?status=suspended", as: TenantResponse.self, limit: 3).isEmpty)
            for bad in ["limit=0", "limit=x", "status=bogus", "tier=%24where"] {
                let reply = try await client.call(.get, "/api/v1/tenants?\(bad)")
                #expect(reply.status == 400 && reply.code == "invalid_query", "\(bad)")
            }
            let badCursor = try await client.call(.get, "/api/v1/tenants?cursor=not-a-cursor")
            #expect(badCursor.status == 400 && badCursor.code == "invalid_cursor")
            let databases = try await allPages("/api/v1/databases", as: TenantDatabaseRecord.self, limit: 3)
            #expect(databases.count == 20 && Set(databases.map(\.databaseKey)).count == 20)
            #expect(databases.map(\.databaseKey) == databases.map(\.databaseKey).sorted(), "ordered by type and name")
            let mongoOnly = try await allPages("/api/v1/databases?type=mongodb", as: TenantDatabaseRecord.self, limit: 2)
            #expect(mongoOnly.count == 5 && mongoOnly.allSatisfy { $0.type == .mongodb && $0.primary })
            for id in ids { #expect(try await client.call(.delete, "/api/v1/tenants/\(id)").status == 204) }
        }
    }

    /// Until the registry's indexes exist, business requests get `503 starting` and readiness fails `startup`.
    @Test func requestsWaitForTheStartupWork() async throws {
        let server = try TestServers.primaryMongo()
        try await withTenantRegistry(server: server) { registry, _ in
            try await tenantApp(server: server, registry: registry).test(.router) { client async throws in
                // Either still starting (503 starting) or already started (200 empty page): never anything else.
                let early = try await client.call(.get, "/api/v1/tenants")
                #expect(early.status == 200 || (early.status == 503 && early.code == "starting"), "\(early.status) \(early.code ?? "")")
                try await client.waitUntilReady()
                let ready = try await client.call(.get, "/health/ready").decode(ReadinessReport.self)
                #expect(ready.checks["startup"]?.status == "pass")
                #expect(try await client.call(.get, "/api/v1/tenants").status == 200)
            }
        }
    }

    /// The headers and methods the API description promises: 405 for an undeclared method (it was 404), 401
    /// without the key, 415 for a body that is not JSON.
    @Test func undeclaredMethodsAndHeadersAreEnforced() async throws {
        let server = try TestServers.primaryMongo()
        try await withTenantService(server: server) { client, _ async throws in
            let cases: [(HTTPRequest.Method, String)] = [
                (.patch, "/api/v1/tenants/some-tenant"), (.delete, "/api/v1/tenants"), (.get, "/api/v1/tenants/some-tenant/provision"),
                (.put, "/api/v1/tenants/some-tenant/databases"), (.put, "/api/v1/databases"), (.patch, "/api/v1/databases"),
            ]
            for (method, path) in cases {
                let reply = try await client.call(method, path)
                #expect(reply.status == 405 && reply.code == "method_not_allowed", "\(method) \(path)")
            }
            #expect(try await client.call(.patch, "/api/v1/tenants/some-tenant", apiKey: nil).status == 401)
            #expect(try await client.call(.get, "/api/v1/tenants", apiKey: "wrong").status == 401)
            let text = try await client.call(.post, "/api/v1/tenants", rawBody: #"{"name":"Text"}"#, headers: [.contentType: "text/plain"])
            #expect(text.status == 415 && text.code == "unsupported_media_type")
            let badTenantHeader = try await client.call(.get, "/api/v1/tenants", tenant: "$where")
            #expect(badTenantHeader.status == 400 && badTenantHeader.code == "invalid_tenant")
        }
    }
}
