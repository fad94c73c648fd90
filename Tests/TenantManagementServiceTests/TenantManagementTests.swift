@testable import DatabaseLayer
import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import TenantManagementService
import Testing

// MARK: - Helpers (prefixed `tenant`/`Tenant`: this target holds every service's tests)

/// A fresh tenant id for one test (`it-<12 hex>`), valid and unique per run.
func tenantTestID() -> String {
    "it-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
}

/// PostgreSQL that refuses every connection, as when the server is down.
let tenantDeadPostgresURI = "postgresql://nobody@127.0.0.1:1/nothing"

/// The service's environment on the test servers, with its own registry database.
func tenantEnvironment(mongo: MongoTestServer, registry: String, postgresURI: String? = nil, extra: [String: String] = [:]) throws -> ServiceEnvironment {
    testServiceEnvironment(
        [
            "TENANT_MONGODB_URI": mongo.uri, "TENANT_REGISTRY_DB": registry, "TENANT_POSTGRES_URI": try postgresURI ?? TestServers.postgresURL(),
            "TENANT_SERVICE_HOST": "127.0.0.1", "TENANT_SERVICE_PORT": "0", "PG_POOL_MIN": "0", "PG_POOL_MAX": "4",
        ].merging(extra) { $1 })
}

/// Headers of an authenticated JSON request.
let tenantAuthHeaders: HTTPFields = [.init("X-API-Key")!: testAPIKey, .contentType: "application/json"]

/// Sends one request with the API key.
func tenantSend(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ json: String? = nil) async throws -> TestResponse {
    try await client.execute(uri: uri, method: method, headers: tenantAuthHeaders, body: json.map { ByteBuffer(string: $0) })
}

/// Decodes a JSON response body.
func tenantDecode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = ISO8601.decodingStrategy
    return try decoder.decode(T.self, from: Data(response.body.readableBytesView))
}

/// `text` as a JSON string literal.
func tenantJSONString(_ text: String) -> String { JSONValue.string(text).jsonString }

/// `text` percent-encoded as one path segment (everything but letters and digits).
func tenantPathSegment(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x" }

/// A page as the list endpoints return it.
struct TenantTestPage<Item: Decodable>: Decodable {
    var items: [Item]
    var total: Int
    var limit: Int
    var offset: Int
}

/// A create body.
func tenantCreateBody(id: String?, name: String, tier: String = "standard", region: String = "eu-west-1", settings: String = "{}") -> String {
    let idPart = id.map { #""tenant_id":"\#($0)","# } ?? ""
    return #"{\#(idPart)"name":"\#(name)","tier":"\#(tier)","region":"\#(region)","settings":\#(settings)}"#
}

/// Direct connections to the stores, to check what really exists there.
struct TenantStoreProbe {
    let mongo: MongoClientPool
    let postgres: PostgresPool

    init(server: MongoTestServer, registry: String) throws {
        self.mongo = try MongoClientPool(configuration: server.configuration(database: registry), logger: TestServers.logger)
        self.postgres = PostgresPool(
            configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 2)), logger: TestServers.logger)
    }

    /// Every database on the server. nx-27017 can fail a listing while another test drops a database, so retry.
    func mongoDatabases() async throws -> Set<String> {
        for _ in 0..<4 {
            if let names = try? await self.mongo.databaseNames() { return Set(names) }
            try await Task.sleep(for: .milliseconds(200))
        }
        return Set(try await self.mongo.databaseNames())
    }

    /// Whether `name` exists (MongoDB lists a database exactly when it holds a collection).
    func mongoDatabaseExists(_ name: String) async throws -> Bool {
        !(try await self.mongo.collectionNames(database: name)).isEmpty
    }

    /// Schemas whose names start with `prefix`.
    func schemas(prefix: String) async throws -> Set<String> {
        let rows = try await self.postgres.query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", [prefix])
        return Set(try rows.map { row throws(DatabaseError) in try row.decode("nspname", as: String.self) })
    }

    /// Every schema of the test database.
    func allSchemas() async throws -> Set<String> {
        let rows = try await self.postgres.query("SELECT nspname FROM pg_namespace")
        return Set(try rows.map { row throws(DatabaseError) in try row.decode("nspname", as: String.self) })
    }

    /// The registry document of a tenant, read directly.
    func registryTenant(_ id: String) async throws -> JSONObject? {
        try await self.mongo.collection("tenants").findOne(["tenant_id": ["$eq": .string(id)]])
    }

    /// Drops the registry and whatever a failed test left behind for `ids` and for every tenant still registered.
    func cleanUp(registry: String, ids: [String]) async {
        let registered = (try? await self.mongo.collection("tenants").find([:]))?.compactMap { $0["tenant_id"]?.stringValue } ?? []
        for id in Set(ids + registered) {
            guard let tenant = TenantID(id) else { continue }
            try? await self.mongo.dropDatabase(tenant.mongoDatabaseName)
            let prefix = String(tenant.mongoDatabaseName.dropLast(2))
            if let names = try? await self.schemas(prefix: prefix), !names.isEmpty {
                let list = names.compactMap { try? SQLIdentifier($0).quoted }.joined(separator: ", ")
                _ = try? await self.postgres.query("DROP SCHEMA IF EXISTS \(list) CASCADE")
            }
        }
        try? await self.mongo.dropDatabase(registry)
        await self.mongo.clients.shutdown()
        await self.postgres.connections.shutdown()
    }
}

// MARK: - Pure logic (no servers)

/// Validation, masking and id generation, without servers.
@Suite struct TenantManagementUnitTests {
    @Test(arguments: [
        ("mongodb://tenant_service:password@mongodb-tenant:27017/tenant_registry?replicaSet=rs0&authSource=admin",
         "mongodb://tenant_service:****@mongodb-tenant:27017/tenant_registry?replicaSet=rs0&authSource=admin"),
        ("mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017"),
        ("mongodb://user@host/db", "mongodb://user@host/db"),
        ("mongodb://u:p@ss/w@rd@host:1/db", "mongodb://u:****@host:1/db"),
        ("postgresql://h/db?user=u&password=secret&sslmode=require", "postgresql://h/db?user=u&password=****&sslmode=require"),
        ("mongodb://h/?tlsCertificateKeyFilePassword=x", "mongodb://h/?tlsCertificateKeyFilePassword=****"),
        ("user:secret@host", "****"),
    ])
    func connectionStringsAreMasked(input: String, expected: String) {
        #expect(ConnectionStringMask.mask(input) == expected)
        #expect(!ConnectionStringMask.mask(input).contains("secret"))
    }

    @Test func generatedIDsHaveTheDocumentedShape() throws {
        for _ in 0..<50 {
            let id = try TenantManager.generateID().rawValue
            #expect(id.count == 15 && id.hasPrefix("tenant-"))
            #expect(id.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
    }

    @Test(arguments: [#"x"; DROP SCHEMA public; --"#, "../etc", "$where", String(repeating: "a", count: 200), "tenänt", "Upper", "a.b", "", " a", "a_b"])
    func badTenantIDsAreRejected(raw: String) {
        #expect(throws: APIError.self) { try TenantValidation.tenantID(raw) }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["tenant_id": .string(raw), "name": "Valid"]) }
    }

    @Test(arguments: [#"x"; DROP SCHEMA public; --"#, "../etc", "$where", String(repeating: "a", count: 101), "Café", "", " lead", "trail ", "tab\there"])
    func badNamesAreRejected(raw: String) {
        #expect(throws: APIError.self) { try TenantValidation.name(raw) }
    }

    @Test func serverOwnedAndUnknownFieldsAreRejected() throws {
        for field in ["status", "created_at", "updated_at", "provisioning_error", "_id"] {
            #expect(throws: APIError.self) { try CreateTenantRequest(body: ["name": "Acme", .init(stringLiteral: field): "x"]) }
        }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["name": "Acme", "surprise": 1]) }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["name": "Acme", "database_config": ["connection_string": "mongodb://x"]]) }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["name": "Acme", "database_config": ["type": "dedicated"]]) }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["name": "Acme", "settings": ["$where": "1"]]) }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["name": "Acme", "settings": ["a.b": 1]]) }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["name": "Acme", "settings": "not an object"]) }
        let ok = try CreateTenantRequest(body: ["name": "Acme Corp.", "settings": ["theme": ["dark": true]]])
        #expect(ok.tenantID == nil && ok.tier == "standard" && ok.databaseType == .shared)
        #expect(throws: APIError.self) { try UpdateTenantRequest(body: [:]) }
        #expect(throws: APIError.self) { try UpdateTenantRequest(body: ["status": "failed"]) }
        #expect(throws: APIError.self) { try UpdateTenantRequest(body: ["tenant_id": "other"]) }
        #expect(try UpdateTenantRequest(body: ["status": "suspended"]).status == .suspended)
    }

    @Test func additionalDatabaseNamesAreDerivedAndCannotCollideAcrossTenants() throws {
        let a = try #require(TenantID("a"))
        #expect(try CreateTenantDatabaseRequest.fullName("analytics", tenant: a, type: .postgresql) == "tenant_a_analytics")
        #expect(try CreateTenantDatabaseRequest.fullName("tenant_a_analytics", tenant: a, type: .mongodb) == "tenant_a_analytics")
        // `a` + `b_db` would equal `a-b`'s primary database `tenant_a_b_db`: underscores in the part are refused.
        #expect(throws: APIError.self) { try CreateTenantDatabaseRequest.fullName("b_db", tenant: a, type: .mongodb) }
        for bad in [#"x"; DROP SCHEMA public; --"#, "../etc", "$where", "ünï", "Upper", "1abc", String(repeating: "a", count: 21)] {
            #expect(throws: APIError.self) { try CreateTenantDatabaseRequest.fullName(bad, tenant: a, type: .postgresql) }
        }
        let long = try #require(TenantID(String(repeating: "z", count: 40)))
        #expect(throws: APIError.self) { try CreateTenantDatabaseRequest.fullName(String(repeating: "a", count: 20), tenant: long, type: .postgresql) }
    }

    @Test func missingPostgresURIStopsTheStart() async throws {
        do {
            _ = try await TenantManagementApp.makeApplication(
                environment: ServiceEnvironment(["API_KEY": testAPIKey, "TENANT_MONGODB_URI": "mongodb://127.0.0.1:1"]), logger: TestServers.logger)
            Issue.record("expected a configuration error")
        } catch let error as ConfigurationError {
            #expect(error.variable == "TENANT_POSTGRES_URI")
        }
    }
}

// MARK: - Integration (real MongoDB-compatible servers, PostgreSQL, Redis)

/// The service against real servers, checking MongoDB and PostgreSQL themselves.
@Suite(.enabled(if: TestServers.mongoEnabled && TestServers.postgresEnabled, TestServers.skipReason))
struct TenantManagementIntegrationTests {
    /// Create → read → update → additional databases → delete, checking MongoDB and PostgreSQL themselves at each step.
    @Test(arguments: TestServers.mongoServers)
    func fullLifecycle(server: MongoTestServer) async throws {
        let registry = TestServers.uniqueName("tenants")
        let id = tenantTestID()
        let tenant = try #require(TenantID(id))
        let probe = try TenantStoreProbe(server: server, registry: registry)
        let app = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
        do {
            try await app.test(.router) { client async throws in
                // Create with a chosen id.
                let created = try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: id, name: "Lifecycle \(id)", settings: #"{"theme":{"dark":true},"limits":[1,2]}"#))
                #expect(created.status == .created)
                #expect(created.headers[.location] == "/api/v1/tenants/\(id)")
                let body = try tenantDecode(TenantResponse.self, created)
                #expect(body.tenantID == id && body.status == .active && body.tier == "standard" && body.region == "eu-west-1")
                #expect(body.databaseConfig.databaseName == tenant.mongoDatabaseName && body.databaseConfig.type == .shared)
                #expect(body.databaseConfig.postgresqlSchemas == ["tenant_\(id.replacingOccurrences(of: "-", with: "_"))_crm", "tenant_\(id.replacingOccurrences(of: "-", with: "_"))_marketing", "tenant_\(id.replacingOccurrences(of: "-", with: "_"))_sales"])
                #expect(body.settings["theme"]?.objectValue?["dark"] == true)
                #expect(body.provisioningError == nil)

                // MongoDB itself: database, collection and the seed's three indexes (matched by key: nx renames them).
                #expect(try await probe.mongoDatabaseExists(tenant.mongoDatabaseName))
                #expect(try await probe.mongo.collectionNames(database: tenant.mongoDatabaseName).contains("user_insights"))
                let indexes = try await probe.mongo.collection("user_insights", database: tenant.mongoDatabaseName).indexes()
                #expect(indexes.contains { $0["key"]?.objectValue?.keys == ["user_id"] && $0["unique"]?.boolValue == true })
                #expect(indexes.contains { $0["key"]?.objectValue?.keys == ["topics.name"] })
                #expect(indexes.contains { $0["key"]?.objectValue?.keys == ["updated_at"] })
                // PostgreSQL itself: the three plugin schemas.
                let prefix = String(tenant.mongoDatabaseName.dropLast(2))
                #expect(try await probe.schemas(prefix: prefix) == Set(["crm", "sales", "marketing"].map { prefix + $0 }))
                // The registry stores the connection string; no response shows its password.
                #expect(try await probe.registryTenant(id)?["database_config"]?.objectValue?["connection_string"]?.stringValue == server.uri)

                // Create with a generated id.
                let generated = try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: nil, name: "Generated \(id)"))
                #expect(generated.status == .created)
                let generatedBody = try tenantDecode(TenantResponse.self, generated)
                #expect(generatedBody.tenantID.hasPrefix("tenant-") && generatedBody.tenantID.count == 15)

                // Same id or same name (any case) again: 409, and nothing changes.
                let again = try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: id, name: "Other \(id)"))
                #expect(again.status == .conflict)
                let sameName = try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: nil, name: "LIFECYCLE \(id)"))
                #expect(sameName.status == .conflict)
                #expect(try decodeProblem(sameName).code == "conflict")

                // Server-owned fields are rejected, not ignored.
                let owned = try await tenantSend(client, .post, "/api/v1/tenants", #"{"tenant_id":"\#(tenantTestID())","name":"Owned","status":"active"}"#)
                #expect(owned.status == .badRequest)

                // Read.
                let read = try tenantDecode(TenantResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)"))
                #expect(read.name == "Lifecycle \(id)" && read.status == .active)
                #expect(try await tenantSend(client, .get, "/api/v1/tenants/\(tenantTestID())").status == .notFound)

                // Update: name, tier, settings; suspend and reactivate; other statuses and fields refused.
                let updated = try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"name":"Renamed \#(id)","tier":"premium","settings":{"a":1}}"#)
                #expect(updated.status == .ok)
                let updatedBody = try tenantDecode(TenantResponse.self, updated)
                #expect(updatedBody.name == "Renamed \(id)" && updatedBody.tier == "premium" && updatedBody.settings == ["a": 1])
                #expect(updatedBody.updatedAt >= body.updatedAt)
                #expect(try tenantDecode(TenantResponse.self, try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"status":"suspended"}"#)).status == .suspended)
                #expect(try tenantDecode(TenantResponse.self, try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"status":"active"}"#)).status == .active)
                #expect(try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"status":"deleting"}"#).status == .badRequest)
                #expect(try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"database_config":{"type":"shared"}}"#).status == .badRequest)
                let renameClash = try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"name":"generated \#(id)"}"#)
                #expect(renameClash.status == .conflict)

                // Additional databases: one MongoDB database, one PostgreSQL schema; the same again is 409.
                let extraMongo = try await tenantSend(client, .post, "/api/v1/databases", #"{"tenant_id":"\#(id)","type":"mongodb","name":"analytics"}"#)
                #expect(extraMongo.status == .created)
                #expect(try tenantDecode(TenantDatabaseResponse.self, extraMongo).name == prefix + "analytics")
                let extraSchema = try await tenantSend(client, .post, "/api/v1/databases", #"{"tenant_id":"\#(id)","type":"postgresql","name":"\#(prefix)billing"}"#)
                #expect(extraSchema.status == .created)
                #expect(try await tenantSend(client, .post, "/api/v1/databases", #"{"tenant_id":"\#(id)","type":"postgresql","name":"billing"}"#).status == .conflict)
                #expect(try await tenantSend(client, .post, "/api/v1/databases", #"{"tenant_id":"\#(id)","type":"postgresql","name":"crm"}"#).status == .conflict)
                #expect(try await probe.mongoDatabaseExists(prefix + "analytics"))
                #expect(try await probe.schemas(prefix: prefix).contains(prefix + "billing"))

                // The tenant's databases: configuration plus what exists.
                let report = try tenantDecode(TenantDatabasesResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)/databases"))
                #expect(report.databases.count == 6)
                #expect(report.databases.allSatisfy { $0.exists })
                #expect(report.databases.first { $0.name == tenant.mongoDatabaseName }?.collections?.contains("user_insights") == true)
                #expect(report.databaseConfig.mongodbDatabases.contains(prefix + "analytics"))
                #expect(report.databaseConfig.postgresqlSchemas.contains(prefix + "billing"))
                #expect(!report.databaseConfig.connectionString.contains(":password@"))

                // All tenant databases, filtered to this tenant.
                let all = try tenantDecode(TenantTestPage<TenantDatabaseResponse>.self, try await tenantSend(client, .get, "/api/v1/databases?tenant_id=\(id)"))
                #expect(all.total == 6 && all.items.count == 6)
                let schemasOnly = try tenantDecode(TenantTestPage<TenantDatabaseResponse>.self, try await tenantSend(client, .get, "/api/v1/databases?tenant_id=\(id)&type=postgresql&limit=2"))
                #expect(schemasOnly.total == 4 && schemasOnly.items.count == 2)

                // Metrics count provisioning.
                let metrics = try await client.execute(uri: "/metrics", method: .get)
                #expect(String(buffer: metrics.body).contains(#"tenants_provisioned_total{result="success"}"#))

                // Delete: 204, then gone from MongoDB, PostgreSQL and the registry.
                #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(id)").status == .noContent)
                #expect(try await tenantSend(client, .get, "/api/v1/tenants/\(id)").status == .notFound)
                #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(id)").status == .notFound)
                #expect(try await !probe.mongoDatabaseExists(tenant.mongoDatabaseName))
                #expect(try await !probe.mongoDatabaseExists(prefix + "analytics"))
                #expect(try await probe.schemas(prefix: prefix).isEmpty)
                #expect(try await probe.registryTenant(id) == nil)
                #expect(try await probe.mongo.collection("tenant_databases").count(["tenant_id": ["$eq": .string(id)]]) == 0)
                #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(generatedBody.tenantID)").status == .noContent)
            }
        } catch {
            await probe.cleanUp(registry: registry, ids: [id])
            throw error
        }
        await probe.cleanUp(registry: registry, ids: [id])
    }

    /// PostgreSQL unreachable: the tenant is left `failed` with the error; once PostgreSQL is back, `/provision`
    /// (and, for a second tenant, the same create again) finishes without duplicating anything.
    @Test func provisioningFailureIsRecoverable() async throws {
        let server = try TestServers.primaryMongo()
        let registry = TestServers.uniqueName("tenants")
        let id = tenantTestID()
        let second = tenantTestID()
        let tenant = try #require(TenantID(id))
        let prefix = String(tenant.mongoDatabaseName.dropLast(2))
        let probe = try TenantStoreProbe(server: server, registry: registry)
        do {
            // 1. PostgreSQL down.
            let down = try await TenantManagementApp.makeApplication(
                environment: tenantEnvironment(mongo: server, registry: registry, postgresURI: tenantDeadPostgresURI), logger: TestServers.logger)
            try await down.test(.router) { client async throws in
                let created = try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: id, name: "Failing \(id)"))
                #expect(created.status == .serviceUnavailable)
                #expect(created.headers[.retryAfter] != nil)
                let problem = try decodeProblem(created)
                #expect(problem.code == "provisioning_failed")
                #expect(problem.detail.contains(id) && problem.detail.contains("/provision"))
                let failed = try tenantDecode(TenantResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)"))
                #expect(failed.status == .failed)
                #expect(failed.provisioningError?.step == "postgresql_schemas")
                #expect(failed.provisioningError?.code == "unavailable")
                // Still down: provisioning again fails the same way.
                #expect(try await tenantSend(client, .post, "/api/v1/tenants/\(id)/provision").status == .serviceUnavailable)
                // A failed tenant cannot be activated through PUT.
                #expect(try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"status":"active"}"#).status == .conflict)
                #expect(try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: second, name: "Second \(second)")).status == .serviceUnavailable)
            }
            #expect(try await probe.registryTenant(id)?["status"] == "failed")
            #expect(try await probe.schemas(prefix: prefix).isEmpty)

            // 2. PostgreSQL back (a service instance that reaches it, on the same registry).
            let up = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
            try await up.test(.router) { client async throws in
                let provisioned = try await tenantSend(client, .post, "/api/v1/tenants/\(id)/provision")
                #expect(provisioned.status == .ok)
                let body = try tenantDecode(TenantResponse.self, provisioned)
                #expect(body.status == .active && body.provisioningError == nil)
                // Idempotent: provisioning an active tenant again changes nothing.
                #expect(try await tenantSend(client, .post, "/api/v1/tenants/\(id)/provision").status == .ok)
                // The same create again finishes the second tenant; then it is a plain duplicate.
                let resumed = try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: second, name: "Second \(second)"))
                #expect(resumed.status == .created)
                #expect(try tenantDecode(TenantResponse.self, resumed).status == .active)
                #expect(try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: second, name: "Second \(second)")).status == .conflict)
                let report = try tenantDecode(TenantDatabasesResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)/databases"))
                #expect(report.databases.count == 4 && report.databases.allSatisfy { $0.exists })
            }
            // Nothing duplicated: one registry entry, four database records, the seed's indexes once each.
            #expect(try await probe.mongo.collection("tenants").count(["tenant_id": ["$eq": .string(id)]]) == 1)
            #expect(try await probe.mongo.collection("tenant_databases").count(["tenant_id": ["$eq": .string(id)]]) == 4)
            let indexes = try await probe.mongo.collection("user_insights", database: tenant.mongoDatabaseName).indexes()
            #expect(indexes.count == 4, "_id plus the three of seed 002")
            #expect(try await probe.schemas(prefix: prefix).count == 3)

            // 3. Deleting while PostgreSQL is down fails half-way: MongoDB is dropped, the tenant stays `deleting`.
            // (An application runs its pools once: each test block gets a freshly built one.)
            let downAgain = try await TenantManagementApp.makeApplication(
                environment: tenantEnvironment(mongo: server, registry: registry, postgresURI: tenantDeadPostgresURI), logger: TestServers.logger)
            try await downAgain.test(.router) { client async throws in
                let deleted = try await tenantSend(client, .delete, "/api/v1/tenants/\(id)")
                #expect(deleted.status == .serviceUnavailable)
                #expect(try decodeProblem(deleted).code == "deletion_failed")
                let stuck = try tenantDecode(TenantResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)"))
                #expect(stuck.status == .deleting && stuck.deletionError?.step == "drop_postgresql")
                #expect(try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"tier":"gold"}"#).status == .conflict)
                #expect(try await tenantSend(client, .post, "/api/v1/tenants/\(id)/provision").status == .conflict)
            }
            #expect(try await !probe.mongoDatabaseExists(tenant.mongoDatabaseName))
            #expect(try await probe.schemas(prefix: prefix).count == 3)
            let upAgain = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
            try await upAgain.test(.router) { client async throws in
                #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(id)").status == .noContent)
                #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(second)").status == .noContent)
            }
            #expect(try await probe.schemas(prefix: prefix).isEmpty)
            #expect(try await probe.registryTenant(id) == nil)
        } catch {
            await probe.cleanUp(registry: registry, ids: [id, second])
            throw error
        }
        await probe.cleanUp(registry: registry, ids: [id, second])
    }

    /// Many creates of one tenant at once (same id, or same name): exactly one 201, the rest 409.
    @Test func concurrentCreatesOfOneTenant() async throws {
        let server = try TestServers.primaryMongo()
        let registry = TestServers.uniqueName("tenants")
        let id = tenantTestID()
        let probe = try TenantStoreProbe(server: server, registry: registry)
        do {
            let app = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
            let created = try await app.test(.router) { client async throws -> [String] in
                func race(_ bodies: [String]) async throws -> [(HTTPResponse.Status, String?)] {
                    try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                        for body in bodies {
                            group.addTask {
                                let response = try await tenantSend(client, .post, "/api/v1/tenants", body)
                                return (response.status, response.status == .created ? try tenantDecode(TenantResponse.self, response).tenantID : nil)
                            }
                        }
                        var results: [(HTTPResponse.Status, String?)] = []
                        for try await result in group { results.append(result) }
                        return results
                    }
                }
                let sameID = try await race(Array(repeating: tenantCreateBody(id: id, name: "Race \(id)"), count: 8))
                #expect(sameID.filter { $0.0 == .created }.count == 1)
                #expect(sameID.filter { $0.0 == .conflict }.count == 7)
                let sameName = try await race((0..<6).map { _ in tenantCreateBody(id: tenantTestID(), name: "Name race \(id)") })
                #expect(sameName.filter { $0.0 == .created }.count == 1)
                #expect(sameName.filter { $0.0 == .conflict }.count == 5)
                return (sameID + sameName).compactMap(\.1)
            }
            #expect(try await probe.mongo.collection("tenants").count() == 2)
            #expect(try await probe.mongo.collection("tenants").count(["tenant_id": ["$eq": .string(id)]]) == 1)
            let cleanup = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
            try await cleanup.test(.router) { client async throws in
                for tenant in created { #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(tenant)").status == .noContent) }
            }
        } catch {
            await probe.cleanUp(registry: registry, ids: [id])
            throw error
        }
        await probe.cleanUp(registry: registry, ids: [id])
    }

    /// `GET /tenants/{id}` is cached in Redis; PUT and DELETE invalidate it.
    @Test(.enabled(if: TestServers.redisEnabled, TestServers.skipReason))
    func cacheIsInvalidatedOnWrites() async throws {
        let server = try TestServers.primaryMongo()
        let registry = TestServers.uniqueName("tenants")
        let id = tenantTestID()
        let probe = try TenantStoreProbe(server: server, registry: registry)
        do {
            let app = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
            try await app.test(.router) { client async throws in
                #expect(try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: id, name: "Cached \(id)", tier: "basic")).status == .created)
                #expect(try tenantDecode(TenantResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)")).tier == "basic")
                // Changed behind the service's back: the cached answer is still served, which shows the cache is used.
                _ = try await probe.mongo.collection("tenants").updateOne(["tenant_id": ["$eq": .string(id)]], ["$set": ["tier": "sneaky"]])
                #expect(try tenantDecode(TenantResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)")).tier == "basic")
                // PUT invalidates.
                #expect(try await tenantSend(client, .put, "/api/v1/tenants/\(id)", #"{"tier":"premium","status":"suspended"}"#).status == .ok)
                let afterPut = try tenantDecode(TenantResponse.self, try await tenantSend(client, .get, "/api/v1/tenants/\(id)"))
                #expect(afterPut.tier == "premium" && afterPut.status == .suspended)
                // DELETE invalidates: no stale tenant after it.
                #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(id)").status == .noContent)
                #expect(try await tenantSend(client, .get, "/api/v1/tenants/\(id)").status == .notFound)
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"cache_requests_total{result="hit"}"#))
            }
        } catch {
            await probe.cleanUp(registry: registry, ids: [id])
            throw error
        }
        await probe.cleanUp(registry: registry, ids: [id])
    }

    /// Pages, filters and the page-size clamp of both list endpoints.
    @Test func listsArePaginatedAndFiltered() async throws {
        let server = try TestServers.primaryMongo()
        let registry = TestServers.uniqueName("tenants")
        let ids = (0..<5).map { _ in tenantTestID() }
        let probe = try TenantStoreProbe(server: server, registry: registry)
        do {
            let app = try await TenantManagementApp.makeApplication(
                environment: tenantEnvironment(mongo: server, registry: registry, extra: ["MAX_PAGE_SIZE": "3"]), logger: TestServers.logger)
            try await app.test(.router) { client async throws in
                for (index, id) in ids.enumerated() {
                    let body = tenantCreateBody(id: id, name: "Page \(id)", tier: index < 3 ? "gold" : "silver", region: index.isMultiple(of: 2) ? "eu" : "us")
                    #expect(try await tenantSend(client, .post, "/api/v1/tenants", body).status == .created)
                }
                var seen: [String] = []
                for offset in [0, 2, 4] {
                    let page = try tenantDecode(TenantTestPage<TenantResponse>.self, try await tenantSend(client, .get, "/api/v1/tenants?limit=2&offset=\(offset)"))
                    #expect(page.total == 5 && page.limit == 2 && page.offset == offset)
                    seen += page.items.map(\.tenantID)
                }
                #expect(seen == ids, "oldest first, every tenant exactly once")
                let clamped = try tenantDecode(TenantTestPage<TenantResponse>.self, try await tenantSend(client, .get, "/api/v1/tenants?limit=1000"))
                #expect(clamped.limit == 3 && clamped.items.count == 3 && clamped.total == 5)
                let gold = try tenantDecode(TenantTestPage<TenantResponse>.self, try await tenantSend(client, .get, "/api/v1/tenants?tier=gold&region=eu"))
                #expect(Set(gold.items.map(\.tenantID)) == Set([ids[0], ids[2]]) && gold.total == 2)
                #expect(try tenantDecode(TenantTestPage<TenantResponse>.self, try await tenantSend(client, .get, "/api/v1/tenants?status=active")).total == 5)
                #expect(try tenantDecode(TenantTestPage<TenantResponse>.self, try await tenantSend(client, .get, "/api/v1/tenants?status=suspended")).total == 0)
                for bad in ["limit=0", "limit=x", "offset=-1", "status=bogus", "tier=%24where"] {
                    let response = try await tenantSend(client, .get, "/api/v1/tenants?\(bad)")
                    #expect(response.status == .badRequest, "\(bad)")
                    #expect(try decodeProblem(response).code == "invalid_query")
                }
                let databases = try tenantDecode(TenantTestPage<TenantDatabaseResponse>.self, try await tenantSend(client, .get, "/api/v1/databases?limit=3&offset=18"))
                #expect(databases.total == 20 && databases.items.count == 2)
                let mongoOnly = try tenantDecode(TenantTestPage<TenantDatabaseResponse>.self, try await tenantSend(client, .get, "/api/v1/databases?type=mongodb"))
                #expect(mongoOnly.total == 5 && mongoOnly.items.allSatisfy { $0.type == .mongodb && $0.primary })
                for id in ids { #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(id)").status == .noContent) }
            }
        } catch {
            await probe.cleanUp(registry: registry, ids: ids)
            throw error
        }
        await probe.cleanUp(registry: registry, ids: ids)
    }

    /// Hostile ids, names and database names get 400 on every endpoint, and nothing reaches either store.
    @Test(arguments: TestServers.mongoServers)
    func injectionAttemptsCreateNothing(server: MongoTestServer) async throws {
        let registry = TestServers.uniqueName("tenants")
        let id = tenantTestID()
        let tenant = try #require(TenantID(id))
        let prefix = String(tenant.mongoDatabaseName.dropLast(2))
        let probe = try TenantStoreProbe(server: server, registry: registry)
        let attempts = [#"x"; DROP SCHEMA public; --"#, "../etc", "$where", String(repeating: "a", count: 200), "tenänt-ü", "a.b", "UPPER"]
        do {
            let app = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
            try await app.test(.router) { client async throws in
                for attempt in attempts {
                    let asID = try await tenantSend(client, .post, "/api/v1/tenants", #"{"tenant_id":\#(tenantJSONString(attempt)),"name":"Valid name"}"#)
                    #expect(asID.status == .badRequest, "tenant_id \(attempt)")
                    #expect(try decodeProblem(asID).code == "invalid_tenant")
                    // "UPPER" and "a.b" are fine display names; every other attempt is also refused as a name.
                    if attempt != "UPPER" && attempt != "a.b" {
                        let asName = try await tenantSend(client, .post, "/api/v1/tenants", #"{"name":\#(tenantJSONString(attempt))}"#)
                        #expect(asName.status == .badRequest, "name \(attempt)")
                    }
                    for (method, suffix, body) in [
                        (HTTPRequest.Method.get, "", nil), (.put, "", #"{"tier":"x"}"#), (.delete, "", nil), (.post, "/provision", nil), (.get, "/databases", nil),
                    ] as [(HTTPRequest.Method, String, String?)] {
                        let response = try await tenantSend(client, method, "/api/v1/tenants/\(tenantPathSegment(attempt))\(suffix)", body)
                        #expect(response.status == .badRequest, "\(method) \(suffix) \(attempt)")
                    }
                    let dbTenant = try await tenantSend(client, .post, "/api/v1/databases", #"{"tenant_id":\#(tenantJSONString(attempt)),"type":"postgresql","name":"ok"}"#)
                    #expect(dbTenant.status == .badRequest)
                }
                // A real tenant, then hostile database names for it.
                #expect(try await tenantSend(client, .post, "/api/v1/tenants", tenantCreateBody(id: id, name: "Target \(id)")).status == .created)
                for attempt in attempts + ["tenant_x_db", "a_b", prefix + "../x"] {
                    for type in ["mongodb", "postgresql"] {
                        let response = try await tenantSend(client, .post, "/api/v1/databases", #"{"tenant_id":"\#(id)","type":"\#(type)","name":\#(tenantJSONString(attempt))}"#)
                        #expect(response.status == .badRequest, "\(type) \(attempt)")
                        #expect(try decodeProblem(response).code == "invalid_database_name")
                    }
                }
                #expect(try await tenantSend(client, .post, "/api/v1/databases", #"{"tenant_id":"\#(id)","type":"$where","name":"ok"}"#).status == .badRequest)
                #expect(try await tenantSend(client, .get, "/api/v1/databases?tenant_id=%24where").status == .badRequest)
                #expect(try await tenantSend(client, .post, "/api/v1/tenants", #"{"name":"Settings","settings":{"$where":"1"}}"#).status == .badRequest)
            }
            // Nothing written: one tenant in the registry (the real one), its four databases only.
            #expect(try await probe.mongo.collection("tenants").count() == 1)
            #expect(try await probe.mongo.collection("tenant_databases").count() == 4)
            let databases = try await probe.mongoDatabases()
            #expect(!databases.contains { $0.contains("etc") || $0.contains("where") || $0.contains("DROP") || $0.contains("aaaaaaaaaa") || !$0.allSatisfy(\.isASCII) })
            let schemas = try await probe.allSchemas()
            #expect(schemas.contains("public"), "public survived")
            #expect(!schemas.contains { $0.contains("etc") || $0.contains("where") || $0.lowercased().contains("drop") || $0.contains("aaaaaaaaaa") })
            #expect(try await probe.schemas(prefix: prefix).count == 3)
            let cleanup = try await TenantManagementApp.makeApplication(environment: tenantEnvironment(mongo: server, registry: registry), logger: TestServers.logger)
            try await cleanup.test(.router) { client async throws in
                #expect(try await tenantSend(client, .delete, "/api/v1/tenants/\(id)").status == .noContent)
            }
        } catch {
            await probe.cleanUp(registry: registry, ids: [id])
            throw error
        }
        await probe.cleanUp(registry: registry, ids: [id])
    }
}
