import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import TenantManagementService

/// The whole lifecycle and hostile input against each MongoDB stand-in, checking MongoDB and PostgreSQL themselves.
@Suite(.enabled(if: TestServers.mongoEnabled && TestServers.postgresEnabled, TestServers.skipReason))
struct TenantLifecycleIntegrationTests {
    /// Create → read → update → additional databases → delete, checking MongoDB and PostgreSQL themselves at each step.
    @Test(arguments: TestServers.mongoServers)
    func fullLifecycle(server: MongoTestServer) async throws {
        let id = tenantTestID()
        let tenant = try #require(TenantID(id))
        let prefix = String(tenant.mongoDatabaseName.dropLast(2))
        try await withTenantService(server: server, ids: [id]) { client, probe async throws in
            // Create with a chosen id.
            let created = try await client.call(
                .post, "/api/v1/tenants",
                body: tenantCreateBody(id: id, name: "Lifecycle \(id)", settings: ["theme": ["dark": true], "limits": [1, 2]]))
            #expect(created.status == 201)
            #expect(created.headers[.location] == "/api/v1/tenants/\(id)")
            let body = try created.decode(TenantResponse.self)
            #expect(body.tenantID == id && body.status == .active && body.tier == "standard" && body.region == "eu-west-1")
            #expect(body.databaseConfig.databaseName == tenant.mongoDatabaseName && body.databaseConfig.type == .shared)
            #expect(body.databaseConfig.postgresqlSchemas == [prefix + "crm", prefix + "marketing", prefix + "sales"])
            #expect(body.settings["theme"]?.objectValue?["dark"] == true)
            #expect(body.provisioningError == nil)
            #expect(created["name_key"] == nil)

            // MongoDB itself: database, collection and the seed's three indexes (matched by key: nx renames them).
            #expect(try await probe.mongoDatabaseExists(tenant.mongoDatabaseName))
            #expect(try await probe.mongo.collectionNames(database: tenant.mongoDatabaseName).contains("user_insights"))
            let indexes = try await probe.mongo.collection("user_insights", database: tenant.mongoDatabaseName).indexes()
            #expect(indexes.contains { $0["key"]?.objectValue?.keys == ["user_id"] && $0["unique"]?.boolValue == true })
            #expect(indexes.contains { $0["key"]?.objectValue?.keys == ["topics.name"] })
            #expect(indexes.contains { $0["key"]?.objectValue?.keys == ["updated_at"] })
            // PostgreSQL itself: the three plugin schemas.
            #expect(try await probe.schemas(prefix: prefix) == Set(["crm", "sales", "marketing"].map { prefix + $0 }))
            // The registry stores the connection string (and the name key); no response shows its password.
            let stored = try await probe.registryTenant(id)
            #expect(stored?["database_config"]?.objectValue?["connection_string"]?.stringValue == server.uri)
            #expect(stored?["name_key"]?.stringValue == "lifecycle \(id)")
            #expect(body.databaseConfig.connectionString == ConnectionStringMask.mask(server.uri))

            // Create with a generated id.
            let generated = try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: nil, name: "Generated \(id)"))
            #expect(generated.status == 201)
            let generatedBody = try generated.decode(TenantResponse.self)
            #expect(generatedBody.tenantID.hasPrefix("tenant-") && generatedBody.tenantID.count == 15)

            // Same id or same name (any case) again: 409, and nothing changes.
            #expect(try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: id, name: "Other \(id)")).status == 409)
            let sameName = try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: nil, name: "LIFECYCLE \(id)"))
            #expect(sameName.status == 409 && sameName.code == "conflict")
            #expect(sameName.headers[.contentType] == "application/problem+json")

            // Server-owned fields are rejected, not ignored (`read_only_field`; it was `invalid_body`), unknown ones too.
            let owned = try await client.call(
                .post, "/api/v1/tenants", body: ["tenant_id": .string(tenantTestID()), "name": "Owned", "status": "active"])
            #expect(owned.status == 400 && owned.code == "read_only_field")
            let unknown = try await client.call(.post, "/api/v1/tenants", body: ["name": "Unknown", "colour": "red"])
            #expect(unknown.status == 400 && unknown.code == "unknown_field")

            // Read.
            let read = try await client.call(.get, "/api/v1/tenants/\(id)").decode(TenantResponse.self)
            #expect(read.name == "Lifecycle \(id)" && read.status == .active)
            #expect(try await client.call(.get, "/api/v1/tenants/\(tenantTestID())").status == 404)

            // Update: name, tier, settings; suspend and reactivate; other statuses and fields refused.
            let updated = try await client.call(
                .put, "/api/v1/tenants/\(id)", body: ["name": .string("Renamed \(id)"), "tier": "premium", "settings": ["a": 1]])
            #expect(updated.status == 200)
            let updatedBody = try updated.decode(TenantResponse.self)
            #expect(updatedBody.name == "Renamed \(id)" && updatedBody.tier == "premium" && updatedBody.settings == ["a": 1])
            #expect(updatedBody.updatedAt >= body.updatedAt)
            #expect(
                try await client.call(.put, "/api/v1/tenants/\(id)", body: ["status": "suspended"]).decode(TenantResponse.self).status == .suspended)
            #expect(try await client.call(.put, "/api/v1/tenants/\(id)", body: ["status": "active"]).decode(TenantResponse.self).status == .active)
            #expect(try await client.call(.put, "/api/v1/tenants/\(id)", body: ["status": "deleting"]).status == 400)
            let config = try await client.call(.put, "/api/v1/tenants/\(id)", body: ["database_config": ["type": "shared"]])
            #expect(config.status == 400 && config.code == "read_only_field")
            #expect(try await client.call(.put, "/api/v1/tenants/\(id)", body: ["name": .string("generated \(id)")]).status == 409)

            // Additional databases: one MongoDB database, one PostgreSQL schema; the same again is 409.
            let extraMongo = try await client.call(
                .post, "/api/v1/databases", body: ["tenant_id": .string(id), "type": "mongodb", "name": "analytics"])
            #expect(extraMongo.status == 201)
            #expect(extraMongo.headers[.location] == "/api/v1/tenants/\(id)/databases")
            #expect(try extraMongo.decode(TenantDatabaseRecord.self).name == prefix + "analytics")
            // `name` is the part only; the prefixed full name is refused (one spelling per name, as the document states).
            let prefixed = try await client.call(
                .post, "/api/v1/databases", body: ["tenant_id": .string(id), "type": "postgresql", "name": .string(prefix + "billing")])
            #expect(prefixed.status == 400 && prefixed.code == "invalid_database_name")
            let extraSchema = try await client.call(
                .post, "/api/v1/databases", body: ["tenant_id": .string(id), "type": "postgresql", "name": "billing"])
            #expect(extraSchema.status == 201)
            #expect(
                try await client.call(.post, "/api/v1/databases", body: ["tenant_id": .string(id), "type": "postgresql", "name": "billing"]).status
                    == 409)
            #expect(
                try await client.call(.post, "/api/v1/databases", body: ["tenant_id": .string(id), "type": "postgresql", "name": "crm"]).status == 409
            )
            #expect(try await probe.mongoDatabaseExists(prefix + "analytics"))
            #expect(try await probe.schemas(prefix: prefix).contains(prefix + "billing"))

            // The tenant's databases: configuration plus what exists.
            let report = try await client.call(.get, "/api/v1/tenants/\(id)/databases").decode(TenantDatabasesResponse.self)
            #expect(report.databases.count == 6)
            #expect(report.databases.allSatisfy { $0.exists })
            #expect(report.databases.first { $0.name == tenant.mongoDatabaseName }?.collections?.contains("user_insights") == true)
            #expect(report.databaseConfig.mongodbDatabases?.contains(prefix + "analytics") == true)
            #expect(report.databaseConfig.postgresqlSchemas?.contains(prefix + "billing") == true)
            #expect(!report.databaseConfig.connectionString.contains(":password@"))

            // All tenant databases, filtered to this tenant (one page holds all six; `next` is null on the last page).
            let all = try await client.call(.get, "/api/v1/databases?tenant_id=\(id)").decode(TenantTestPage<TenantDatabaseRecord>.self)
            #expect(all.items.count == 6 && all.next == nil)
            let schemasOnly = try await client.call(.get, "/api/v1/databases?tenant_id=\(id)&type=postgresql&limit=2")
                .decode(TenantTestPage<TenantDatabaseRecord>.self)
            #expect(schemasOnly.items.count == 2 && schemasOnly.limit == 2 && schemasOnly.next != nil)

            // Metrics count provisioning.
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(String(buffer: metrics.body).contains(#"tenants_provisioned_total{result="success"}"#))

            // Delete: 204, then gone from MongoDB, PostgreSQL and the registry.
            #expect(try await client.call(.delete, "/api/v1/tenants/\(id)").status == 204)
            #expect(try await client.call(.get, "/api/v1/tenants/\(id)").status == 404)
            #expect(try await client.call(.delete, "/api/v1/tenants/\(id)").status == 404)
            #expect(try await !probe.mongoDatabaseExists(tenant.mongoDatabaseName))
            #expect(try await !probe.mongoDatabaseExists(prefix + "analytics"))
            #expect(try await probe.schemas(prefix: prefix).isEmpty)
            #expect(try await probe.registryTenant(id) == nil)
            #expect(try await probe.mongo.collection("tenant_databases").count(["tenant_id": ["$eq": .string(id)]]) == 0)
            #expect(try await client.call(.delete, "/api/v1/tenants/\(generatedBody.tenantID)").status == 204)
        }
    }

    /// Hostile ids, names and database names get 400 on every endpoint, and nothing reaches either store.
    @Test(arguments: TestServers.mongoServers)
    func injectionAttemptsCreateNothing(server: MongoTestServer) async throws {
        let id = tenantTestID()
        let tenant = try #require(TenantID(id))
        let prefix = String(tenant.mongoDatabaseName.dropLast(2))
        let attempts = [#"x"; DROP SCHEMA public; --"#, "../etc", "$where", String(repeating: "a", count: 200), "tenänt-ü", "a.b", "UPPER"]
        try await withTenantService(server: server, ids: [id]) { client, probe async throws in
            for attempt in attempts {
                let asID = try await client.call(.post, "/api/v1/tenants", body: ["tenant_id": .string(attempt), "name": "Valid name"])
                #expect(asID.status == 400 && asID.code == "invalid_tenant", "tenant_id \(attempt)")
                // "UPPER" and "a.b" are fine display names; every other attempt is also refused as a name.
                if attempt != "UPPER" && attempt != "a.b" {
                    #expect(try await client.call(.post, "/api/v1/tenants", body: ["name": .string(attempt)]).status == 400, "name \(attempt)")
                }
                let paths: [(HTTPRequest.Method, String, JSONValue?)] = [
                    (.get, "", nil), (.put, "", ["tier": "x"]), (.delete, "", nil), (.post, "/provision", nil), (.get, "/databases", nil),
                ]
                for (method, suffix, body) in paths {
                    let reply = try await client.call(method, "/api/v1/tenants/\(tenantPathSegment(attempt))\(suffix)", body: body)
                    #expect(reply.status == 400, "\(method) \(suffix) \(attempt)")
                }
                let dbTenant = try await client.call(
                    .post, "/api/v1/databases", body: ["tenant_id": .string(attempt), "type": "postgresql", "name": "ok"])
                #expect(dbTenant.status == 400)
            }
            // A real tenant, then hostile database names for it.
            #expect(try await client.call(.post, "/api/v1/tenants", body: tenantCreateBody(id: id, name: "Target \(id)")).status == 201)
            for attempt in attempts + ["tenant_x_db", "a_b", prefix + "../x"] {
                for type in ["mongodb", "postgresql"] {
                    let reply = try await client.call(
                        .post, "/api/v1/databases", body: ["tenant_id": .string(id), "type": .string(type), "name": .string(attempt)])
                    #expect(reply.status == 400 && reply.code == "invalid_database_name", "\(type) \(attempt)")
                }
            }
            #expect(
                try await client.call(.post, "/api/v1/databases", body: ["tenant_id": .string(id), "type": "$where", "name": "ok"]).status == 400)
            #expect(try await client.call(.get, "/api/v1/databases?tenant_id=%24where").status == 400)
            let operatorKey = try await client.call(.post, "/api/v1/tenants", body: ["name": "Settings", "settings": ["$where": "1"]])
            #expect(operatorKey.status == 400 && operatorKey.code == "invalid_key")
            // Nothing written: one tenant in the registry (the real one), its four databases only.
            #expect(try await probe.mongo.collection("tenants").count() == 1)
            #expect(try await probe.mongo.collection("tenant_databases").count() == 4)
            let databases = try await probe.mongoDatabases()
            #expect(
                !databases.contains {
                    $0.contains("etc") || $0.contains("where") || $0.contains("DROP") || $0.contains("aaaaaaaaaa") || !$0.allSatisfy(\.isASCII)
                })
            let schemas = try await probe.allSchemas()
            #expect(schemas.contains("public"), "public survived")
            #expect(!schemas.contains { $0.contains("etc") || $0.contains("where") || $0.lowercased().contains("drop") || $0.contains("aaaaaaaaaa") })
            #expect(try await probe.schemas(prefix: prefix).count == 3)
            #expect(try await client.call(.delete, "/api/v1/tenants/\(id)").status == 204)
        }
    }
}
