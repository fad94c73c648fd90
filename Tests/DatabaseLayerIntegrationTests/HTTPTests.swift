import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import DatabaseLayer

/// A router built like a service's, plus two probe routes that exercise real store errors.
func probeApplication(mongo: MongoTestServer, database: String) throws -> some ApplicationProtocol {
    let http = try HTTPServiceConfiguration(
        environment: testServiceEnvironment(["MAX_BODY_SIZE": "2048"]), descriptor: ServiceDescriptor(name: "probe", defaultPort: 0))
    let runtime = ServiceRuntime(configuration: http, logger: TestServers.logger)
    let pool = try runtime.mongo(mongo.configuration(database: database))
    // A PostgreSQL nobody listens on: every lease fails, as when the database is down.
    let deadPostgres = runtime.postgres(
        PostgresConfiguration(
            host: "127.0.0.1", port: 1, user: "nobody", database: "nothing", pool: .init(minimumConnections: 0, maximumConnections: 1),
            connectTimeoutSeconds: 1))
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
struct HTTPProblemIntegrationTests {
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
            try await client.execute(uri: "/api/v1/items", method: .get, headers: [.init("X-API-Key")!: "wrong-key-123"]) {
                (response: TestResponse) async throws in
                #expect(response.status == .unauthorized)
            }
            // 404: no such route.
            try await client.execute(uri: "/api/v1/nothing-here", method: .get, headers: auth) { (response: TestResponse) async throws in
                #expect(response.status == .notFound)
                #expect(try decodeProblem(response).code == "not_found")
            }
            // 405: a known path with an undeclared method, with the methods it does take.
            try await client.execute(uri: "/api/v1/items", method: .trace, headers: auth) { (response: TestResponse) async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                #expect(try decodeProblem(response).code == "method_not_allowed")
            }
            // 400: malformed JSON, wrong type, bad tenant header; nothing written.
            try await client.execute(uri: "/api/v1/items", method: .post, headers: auth, body: ByteBuffer(string: "{not json")) {
                (response: TestResponse) async throws in
                #expect(response.status == .badRequest)
                #expect(try decodeProblem(response).code == "invalid_body")
            }
            try await client.execute(uri: "/api/v1/items", method: .post, headers: auth, body: ByteBuffer(string: #"{"item_id":"a","count":"x"}"#)) {
                (response: TestResponse) async throws in
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
