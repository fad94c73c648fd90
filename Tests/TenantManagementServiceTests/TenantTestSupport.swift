import DatabaseLayerTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import TenantManagementService

/// A fresh tenant id for one test (`it-<12 hex>`), valid and unique per run.
func tenantTestID() -> String {
    "it-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
}

/// PostgreSQL that refuses every connection, as when the server is down.
let tenantDeadPostgresURI = "postgresql://nobody@127.0.0.1:1/nothing"

/// The service's environment on the test servers, with its own registry database.
func tenantEnvironment(
    mongo: MongoTestServer, registry: String, postgresURI: String? = nil, extra: [String: String] = [:]
) throws -> ServiceEnvironment {
    testServiceEnvironment(
        [
            "TENANT_MONGODB_URI": mongo.uri, "TENANT_REGISTRY_DB": registry, "TENANT_POSTGRES_URI": try postgresURI ?? TestServers.postgresURL(),
            "TENANT_SERVICE_HOST": "127.0.0.1", "TENANT_SERVICE_PORT": "0", "PG_POOL_MIN": "0", "PG_POOL_MAX": "4",
        ].merging(extra) { $1 })
}

/// The application on `registry` (a second instance on the same registry models a restart).
func tenantApp(
    server: MongoTestServer, registry: String, postgresURI: String? = nil, extra: [String: String] = [:]
) async throws -> some ApplicationProtocol {
    try await TenantManagementApp.makeApplication(
        environment: tenantEnvironment(mongo: server, registry: registry, postgresURI: postgresURI, extra: extra), logger: TestServers.logger)
}

/// `text` percent-encoded as one path segment (everything but letters and digits).
func tenantPathSegment(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x" }

/// A page as the list endpoints return it: `{items, limit, next}`.
struct TenantTestPage<Item: Decodable>: Decodable {
    var items: [Item]
    var limit: Int
    var next: String?
}

/// A create body.
func tenantCreateBody(id: String?, name: String, tier: String = "standard", region: String = "eu-west-1", settings: JSONObject = [:]) -> JSONValue {
    var body: JSONObject = ["name": .string(name), "tier": .string(tier), "region": .string(region), "settings": .object(settings)]
    if let id { body["tenant_id"] = .string(id) }
    return .object(body)
}

/// Direct connections to the stores, to check what really exists there.
struct TenantStoreProbe: Sendable {
    let mongo: MongoClientPool
    let postgres: PostgresPool

    /// Connects to `registry` on `server` and to the test PostgreSQL.
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

    /// Drops the registry and whatever a test left behind for `ids` and for every tenant still registered.
    func cleanUp(registry: String, ids: [String]) async {
        let registered = (try? await self.mongo.collection("tenants").find([:]))?.compactMap { $0["tenant_id"]?.stringValue } ?? []
        for id in Set(ids + registered) {
            guard let tenant = TenantID(id) else { continue }
            try? await self.mongo.dropDatabase(tenant.mongoDatabaseName)
            let records = (try? await self.mongo.collection("tenant_databases").find(["tenant_id": ["$eq": .string(id)]])) ?? []
            for name in records.compactMap({ $0["type"]?.stringValue == "mongodb" ? $0["name"]?.stringValue : nil }) {
                try? await self.mongo.dropDatabase(name)
            }
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

/// A fresh registry database and a probe, removed afterwards with every tenant database and schema left in it
/// (and those of `ids`), whether the test passed, failed or threw.
func withTenantRegistry<Value>(
    server: MongoTestServer, ids: [String] = [], _ body: (String, TenantStoreProbe) async throws -> Value
) async throws -> Value {
    let registry = TestServers.uniqueName("tenants")
    let probe = try TenantStoreProbe(server: server, registry: registry)
    return try await TestDatabases.cleaningUp {
        try await body(registry, probe)
    } cleanup: {
        await probe.cleanUp(registry: registry, ids: ids)
    }
}

/// The service on a fresh registry, once its startup work is done; everything it created is removed afterwards.
func withTenantService<Value: Sendable>(
    server: MongoTestServer, extra: [String: String] = [:], ids: [String] = [],
    _ body: @escaping @Sendable (any TestClientProtocol, TenantStoreProbe) async throws -> Value
) async throws -> Value {
    try await withTenantRegistry(server: server, ids: ids) { registry, probe in
        try await tenantApp(server: server, registry: registry, extra: extra).testWhenReady(.router) { client in try await body(client, probe) }
    }
}

extension ApplicationProtocol {
    /// Runs `body` once the startup work (the registry's indexes) is done, even while a store is down on purpose:
    /// `testWhenReady` would wait for a `/health/ready` 200 that a dead PostgreSQL never allows.
    func testWhenStarted<Value: Sendable>(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await self.test(.router) { client async throws in
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let report = try await client.execute(uri: "/health/ready", method: .get) { response in
                    try? JSONDecoder().decode(ReadinessReport.self, from: Data(response.body.readableBytesView))
                }
                if report?.checks["startup"]?.status == "pass" { break }
                guard ContinuousClock.now < deadline else { throw TenantStartupTimedOut() }
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await body(client)
        }
    }
}

/// The startup work of a service under test did not finish within 30 seconds.
struct TenantStartupTimedOut: Error, CustomStringConvertible {
    /// Explains the failure.
    var description: String { "the startup readiness check did not pass within 30 s" }
}
