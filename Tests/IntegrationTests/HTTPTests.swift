@testable import CategoryRepositoryService
@testable import DatabaseLayer
import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import ManagementSystemService
import NIOCore
@testable import TaskRepositoryService
@testable import TenantManagementService
import Testing
@testable import UserDataService

let testAPIKey = "integration-test-key"

/// Environment for a service under test, pointing at the test servers.
func serviceEnvironment(_ extra: [String: String]) throws -> ServiceEnvironment {
    var values = ["API_KEY": testAPIKey, "LOG_LEVEL": "warning", "HOST": "127.0.0.1", "PORT": "0"]
    if let redis = ProcessInfo.processInfo.environment["TEST_REDIS_URL"] { values["REDIS_URL"] = redis }
    return ServiceEnvironment(values.merging(extra) { $1 })
}

func decodeProblem(_ response: TestResponse) throws -> Problem {
    #expect(response.headers[.contentType] == "application/problem+json")
    return try JSONDecoder().decode(Problem.self, from: Data(response.body.readableBytesView))
}

/// A router built like a service's, plus two probe routes that exercise real store errors.
func probeApplication(mongo: MongoTestServer, database: String) throws -> some ApplicationProtocol {
    let http = try HTTPServiceConfiguration(
        environment: serviceEnvironment(["MAX_BODY_SIZE": "2048"]), defaultServiceName: "probe", hostVariable: "HOST", portVariable: "PORT",
        defaultPort: 0, logLevelVariable: nil)
    let runtime = ServiceRuntime(configuration: http, logger: TestServers.logger)
    let pool = try runtime.mongo(mongo.configuration(database: database))
    // A PostgreSQL nobody listens on: every lease fails, as when the database is down.
    let deadPostgres = runtime.postgres(
        PostgresConfiguration(host: "127.0.0.1", port: 1, user: "nobody", database: "nothing", pool: .init(minimumConnections: 0, maximumConnections: 1), connectTimeoutSeconds: 1))
    let router = runtime.makeRouter()
    struct Item: Codable { var item_id: String; var count: Int }
    router.post("/api/v1/items") { request, context -> HTTPResponse.Status in
        let item = try await request.decode(as: Item.self, context: context)
        let collection = try pool.collection("items")
        try await collection.createIndexes([MongoIndex(name: "item_id_unique", keys: ["item_id": 1], unique: true)])
        try await collection.insertOne(JSONObject(encoding: item))
        return .created
    }
    router.get("/api/v1/pg") { _, _ -> HTTPResponse.Status in
        try await deadPostgres.ping()
        return .ok
    }
    router.get("/api/v1/tenant") { _, context -> String in try context.requireTenant().rawValue }
    return runtime.makeApplication(router: router)
}

@Suite(.enabled(if: TestServers.mongoEnabled && TestServers.postgresEnabled, TestServers.skipReason))
struct HTTPProblemTests {
    @Test func problemBodiesForEveryErrorClass() async throws {
        let mongo = try TestServers.primaryMongo()
        let database = TestServers.uniqueName("http")
        let app = try probeApplication(mongo: mongo, database: database)
        let auth: HTTPFields = [.init("X-API-Key")!: testAPIKey, .contentType: "application/json"]
        try await app.test(.router) { client in
            // 401: no key, wrong key.
            try await client.execute(uri: "/api/v1/items", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .unauthorized)
                let problem = try decodeProblem(response)
                #expect(problem.code == "unauthorized")
                #expect(problem.type == "urn:prismicx:problem:unauthorized")
                #expect(problem.requestID == response.headers[.init("X-Request-ID")!])
            }
            try await client.execute(uri: "/api/v1/items", method: .get, headers: [.init("X-API-Key")!: "wrong-key-123"]) { (response: TestResponse) async throws in
                #expect(response.status == .unauthorized)
            }
            // 404: no such route.
            try await client.execute(uri: "/api/v1/nothing-here", method: .get, headers: auth) { (response: TestResponse) async throws in
                #expect(response.status == .notFound)
                #expect(try decodeProblem(response).code == "not_found")
            }
            // 400: malformed JSON, wrong type, bad tenant header; nothing written.
            try await client.execute(uri: "/api/v1/items", method: .post, headers: auth, body: ByteBuffer(string: "{not json")) { (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
                #expect(try decodeProblem(response).code == "invalid_body")
            }
            try await client.execute(uri: "/api/v1/items", method: .post, headers: auth, body: ByteBuffer(string: #"{"item_id":"a","count":"x"}"#)) { (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
                #expect(try decodeProblem(response).detail == "count: expected an integer.")
            }
            var badTenant = auth
            badTenant[.init("X-Tenant-ID")!] = "x\"; DROP SCHEMA public; --"
            try await client.execute(uri: "/api/v1/tenant", method: .get, headers: badTenant) { (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
                #expect(try decodeProblem(response).code == "invalid_tenant")
            }
            try await client.execute(uri: "/api/v1/tenant", method: .get, headers: auth) { (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
                #expect(try decodeProblem(response).code == "tenant_required")
            }
            // 409: the same unique key twice.
            let body = ByteBuffer(string: #"{"item_id":"dup","count":1}"#)
            try await client.execute(uri: "/api/v1/items", method: .post, headers: auth, body: body) { (response: TestResponse) async throws in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/api/v1/items", method: .post, headers: auth, body: body) { (response: TestResponse) async throws in
                #expect(response.status == .conflict)
                let problem = try decodeProblem(response)
                #expect(problem.code == "conflict")
                #expect(!problem.detail.contains("E11000"), "server text stays in the logs")
            }
            // 413: a body over MAX_BODY_SIZE (2048 here).
            let big = ByteBuffer(string: #"{"item_id":""# + String(repeating: "x", count: 4096) + #"","count":1}"#)
            try await client.execute(uri: "/api/v1/items", method: .post, headers: auth, body: big) { (response: TestResponse) async throws in
                #expect(response.status == .contentTooLarge)
                #expect(try decodeProblem(response).code == "payload_too_large")
            }
            // 503: a store that is down, with Retry-After; and readiness reports it.
            try await client.execute(uri: "/api/v1/pg", method: .get, headers: auth) { (response: TestResponse) async throws in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                #expect(try decodeProblem(response).code == "unavailable")
            }
            try await client.execute(uri: "/health/ready", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .serviceUnavailable)
                let report = try JSONDecoder().decode(ReadinessReport.self, from: Data(response.body.readableBytesView))
                #expect(report.checks["postgres:nothing"]?.status == "fail")
                #expect(report.checks["mongodb:\(database)"]?.status == "pass")
            }
            try await client.execute(uri: "/health", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
            }
        }
        let pool = try MongoClientPool(configuration: mongo.configuration(database: database), logger: TestServers.logger)
        #expect(try await pool.collection("items").count() == 1, "rejected requests wrote nothing")
        try await pool.dropDatabase(database)
        await pool.clients.shutdown()
    }
}

@Suite(.enabled(if: TestServers.mongoEnabled && TestServers.postgresEnabled, TestServers.skipReason), .serialized)
struct ServiceBootTests {
    /// Creates a database on the test PostgreSQL (the services expect theirs to exist).
    static func createDatabase(_ name: String) async throws {
        let admin = PostgresPool(configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 1)), logger: TestServers.logger)
        let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).first != nil
        if !exists { try await admin.query("CREATE DATABASE \(try SQLIdentifier(name).quoted)") }
        await admin.connections.shutdown()
    }

    static func readiness(_ app: some ApplicationProtocol) async throws -> ReadinessReport {
        try await app.test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(ReadinessReport.self, from: Data(response.body.readableBytesView))
            }
        }
    }

    @Test func everyServiceReportsItsStores() async throws {
        let mongo = try TestServers.primaryMongo().uri
        let postgres = try TestServers.postgres()
        for name in ["system_users", "user_extensions", "management_system_repository"] { try await Self.createDatabase(name) }
        let pg = ["HOST": postgres.host, "PORT": String(postgres.port), "USER": postgres.user]
        let withDatabase = { (database: String) in mongo.replacingOccurrences(of: "/?", with: "/\(database)?").hasSuffix("/") ? mongo + database : mongo.replacingOccurrences(of: "/?", with: "/\(database)?") }

        let tenant = try await Self.readiness(TenantManagementApp.build(
            environment: serviceEnvironment([
                "TENANT_MONGODB_URI": mongo, "TENANT_SERVICE_PORT": "0", "TENANT_SERVICE_HOST": "127.0.0.1",
                "TENANT_POSTGRES_URI": "postgresql://\(postgres.user)@\(postgres.host):\(postgres.port)/postgres",
            ]), logger: TestServers.logger))
        #expect(Set(tenant.checks.keys).isSuperset(of: ["mongodb:tenant_registry"]))

        let user = try await Self.readiness(UserDataApp.build(
            environment: serviceEnvironment([
                "USER_DB_HOST": pg["HOST"]!, "USER_DB_PORT": pg["PORT"]!, "USER_DB_USER": pg["USER"]!, "USER_DB_NAME": "system_users",
                "POSTGRES_URI": "postgresql://\(postgres.user)@\(postgres.host):\(postgres.port)/user_extensions",
                "MONGODB_URI": withDatabase("user_insights"), "USER_SERVICE_PORT": "0",
            ]), logger: TestServers.logger))
        #expect(Set(user.checks.keys).isSuperset(of: ["postgres:system_users", "postgres:user_extensions", "mongodb:user_insights"]))

        let task = try await Self.readiness(TaskRepositoryApp.build(
            environment: serviceEnvironment(["MONGODB_URI": withDatabase("task_repository")]), logger: TestServers.logger))
        #expect(Set(task.checks.keys).isSuperset(of: ["mongodb:task_repository"]))

        let category = try await Self.readiness(CategoryRepositoryApp.build(
            environment: serviceEnvironment(["MONGODB_URI": withDatabase("category_repository")]), logger: TestServers.logger))
        #expect(Set(category.checks.keys).isSuperset(of: ["mongodb:category_repository"]))

        let port = mongo.split(separator: ":").last.map { $0.prefix(while: \.isNumber) }.map(String.init) ?? "27017"
        let management = try await Self.readiness(ManagementSystemApp.build(
            environment: serviceEnvironment([
                "SYSTEM_DB_HOST": pg["HOST"]!, "SYSTEM_DB_PORT": pg["PORT"]!, "SYSTEM_DB_USER": pg["USER"]!,
                "SYSTEM_DB_NAME": "management_system_repository", "CONFIG_DB_HOST": "127.0.0.1", "CONFIG_DB_PORT": port,
            ]), logger: TestServers.logger))
        #expect(Set(management.checks.keys).isSuperset(of: ["postgres:management_system_repository", "mongodb:config_db"]))
        if TestServers.redisEnabled { #expect(management.checks["redis"]?.status == "pass") }
    }

    @Test func missingRequiredVariableNamesIt() async throws {
        await #expect(throws: ConfigurationError.self) {
            _ = try await TaskRepositoryApp.build(environment: ServiceEnvironment(["API_KEY": testAPIKey]), logger: TestServers.logger)
        }
        do {
            _ = try await UserDataApp.build(environment: ServiceEnvironment(["API_KEY": testAPIKey, "USER_DB_HOST": "h"]), logger: TestServers.logger)
        } catch let error as ConfigurationError {
            #expect(error.variable == "USER_DB_USER")
        }
    }

    @Test func metricsOfARunningServicePassPromtool() async throws {
        let promtool = try #require(ProcessInfo.processInfo.environment["PROMTOOL"] ?? ["/usr/bin/promtool"].first { FileManager.default.fileExists(atPath: $0) })
        let mongo = try TestServers.primaryMongo().uri
        let app = try await TaskRepositoryApp.build(environment: serviceEnvironment(["MONGODB_URI": mongo]), logger: TestServers.logger)
        let text = try await app.test(.live) { client in
            _ = try await client.execute(uri: "/health/ready", method: .get)
            _ = try await client.execute(uri: "/api/v1/tasks", method: .get)
            _ = try await client.execute(uri: "/api/v1/tasks", method: .get, headers: [.init("X-API-Key")!: testAPIKey])
            return try await client.execute(uri: "/metrics", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
        }
        #expect(text.contains("http_requests_total{"))
        #expect(text.contains(#"db_pool_connections{backend="mongodb""#))
        #expect(text.contains(#"db_operation_duration_seconds_bucket{backend="mongodb",operation="ping""#))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("metrics") + ".txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        process.standardInput = try FileHandle(forReadingFrom: file)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "promtool check metrics: \(report)")
    }
}
