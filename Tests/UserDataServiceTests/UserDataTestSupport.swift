import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// Whether the suites that run the whole service (PostgreSQL through pgbouncer, Redis, MongoDB) can run.
let userDataServersEnabled =
    TestServers.postgresEnabled && TestServers.pgbouncerEnabled && TestServers.redisEnabled && TestServers.mongoEnabled

/// The cluster roles the service needs: the NOLOGIN role the migration grants to, and the role tests serve as.
enum UserDataRoles {
    /// The role the migration grants DML to.
    static let app = "user_data_app"
    /// The serving role (`USER_DB_USER`), a member of ``app`` that owns nothing.
    static let serving = "user_data_test_service"
    /// Its password (pgbouncer authenticates every role by password).
    static let servingPassword = "user-data-test"

    /// Roles and databases are cluster-global and suites run in parallel: set them up once per process.
    private static let creation = Task<Void, any Error> {
        try await Self.create()
        for name in ["system_users", "user_extensions"] {
            try await Self.retrying { try await TestDatabases.ensurePostgresDatabase(name) }
        }
    }

    /// Creates both roles unless they exist (idempotent, and safe when another process races it), and the fixed
    /// databases the service expects (`user_extensions` for `POSTGRES_URI`, `system_users` for the boot check).
    static func ensure() async throws { try await Self.creation.value }

    /// Runs `body`, retrying a few times: a concurrent `CREATE` elsewhere makes the first try fail.
    private static func retrying(_ body: () async throws -> Void) async throws {
        for attempt in 1...5 {
            do {
                try await body()
                return
            } catch {
                if attempt == 5 { throw error }
                try await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
    }

    /// Runs the idempotent DO block as the superuser, retrying a lost race on the catalog.
    private static func create() async throws {
        let sql = """
            DO $$
            BEGIN
                BEGIN
                    CREATE ROLE \(Self.app) NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END;
                BEGIN
                    CREATE ROLE \(Self.serving) LOGIN PASSWORD '\(Self.servingPassword)';
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END;
                IF NOT pg_has_role('\(Self.serving)', '\(Self.app)', 'MEMBER') THEN
                    BEGIN
                        GRANT \(Self.app) TO \(Self.serving);
                    EXCEPTION WHEN unique_violation THEN NULL;
                    END;
                END IF;
            END
            $$
            """
        let admin = PostgresPool(
            configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 1)), logger: TestServers.logger)
        try await TestDatabases.cleaningUp {
            try await Self.retrying { try await admin.query(sql) }
        } cleanup: {
            await admin.connections.shutdown()
        }
    }
}

/// Direct superuser access to one test's `system_users` database, to check which rows really exist.
struct UserDataStore: Sendable {
    /// The database name.
    let database: String
    /// A superuser pool on it (superusers bypass row-level security, so every row is visible).
    let pool: PostgresPool

    /// Opens a pool on `database` as the superuser.
    init(database: String) throws {
        self.database = database
        self.pool = PostgresPool(
            configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 2), database: database),
            logger: TestServers.logger)
    }

    /// The single integer `n` that `sql` selects.
    func count(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        try await self.pool.query(sql, parameters).first?.decode("n", as: Int.self) ?? -1
    }

    /// How many rows `user_data.users` holds.
    func userCount() async throws -> Int { try await self.count("SELECT count(*)::int AS n FROM user_data.users") }

    /// The rows of every user-data table that refer to user `id`, by table.
    func rowsReferring(to id: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (table, column) in [
            ("user_data.users", "id"), ("user_data.tenant_users", "user_id"), ("user_preferences.preferences", "user_id"),
            ("user_data.refresh_tokens", "user_id"),
        ] {
            counts[table] = try await self.count("SELECT count(*)::int AS n FROM \(table) WHERE \(column) = $1::uuid", [id])
        }
        return counts
    }

    /// One column of user `id` as text (nil for NULL or no such user).
    func userColumn(_ column: String, of id: String) async throws -> String? {
        try await self.pool.query("SELECT \(column)::text AS v FROM user_data.users WHERE id = $1::uuid", [id]).first?
            .decodeIfPresent("v", as: String.self)
    }

    /// The whole row of user `id` as JSON text, to compare before and after a refused write.
    func userRow(_ id: String) async throws -> String? {
        try await self.pool.query("SELECT row_to_json(u)::text AS v FROM user_data.users u WHERE id = $1::uuid", [id]).first?
            .decodeIfPresent("v", as: String.self)
    }

    /// Closes the pool.
    func close() async { await self.pool.connections.shutdown() }
}

/// A fresh `system_users` database with the roles in place, and a store probe on it; dropped afterwards.
func withUserDataDatabase<Value>(_ body: (String, UserDataStore) async throws -> Value) async throws -> Value {
    try await UserDataRoles.ensure()
    return try await TestDatabases.withPostgresDatabase(prefix: "users") { name in
        let store = try UserDataStore(database: name)
        return try await TestDatabases.cleaningUp {
            try await body(name, store)
        } cleanup: {
            await store.close()
        }
    }
}

/// The service's variables for `database`: served through pgbouncer as the test role, migrated as the owner,
/// signing with `tokens`, bcrypt cost 4 and lockout limits high enough not to interfere (tests lower them).
func userDataEnvironment(database: String, tokens: TestTokens, extra: [String: String] = [:]) throws -> ServiceEnvironment {
    let bouncer = try TestServers.pgbouncer()
    return testServiceEnvironment(
        [
            "USER_DB_HOST": bouncer.host, "USER_DB_PORT": String(bouncer.port), "USER_DB_NAME": database,
            "USER_DB_USER": UserDataRoles.serving, "USER_DB_PASSWORD": UserDataRoles.servingPassword,
            // Migrations connect the same way (pgbouncer), so they need the superuser's pgbouncer password.
            "USER_DB_MIGRATION_USER": bouncer.user, "USER_DB_MIGRATION_PASSWORD": bouncer.password,
            // pgbouncer refuses the `options` startup parameter that carries the statement timeout.
            "PG_STATEMENT_TIMEOUT_MS": "0", "PG_POOL_MIN": "0", "PG_POOL_MAX": "4",
            "POSTGRES_URI": try ServiceBoot.postgresURI(database: "user_extensions"),
            "MONGODB_URI": ServiceBoot.uri(try TestServers.primaryMongo(), database: "user_insights"),
            "USER_SERVICE_PORT": "0", "JWT_PUBLIC_KEY": tokens.publicKeyPEM, "JWT_PRIVATE_KEY": tokens.privateKeyPEM,
            "BCRYPT_COST": "4", "LOGIN_MAX_FAILURES_PER_ACCOUNT": "100", "LOGIN_MAX_FAILURES_PER_CLIENT": "10000",
        ].merging(extra) { $1 })
}

/// The service on `database`, signing with `tokens`.
func userDataApp(database: String, tokens: TestTokens, extra: [String: String] = [:]) async throws -> some ApplicationProtocol {
    try await UserDataApp.makeApplication(
        environment: userDataEnvironment(database: database, tokens: tokens, extra: extra), logger: TestServers.logger)
}

/// The service on a fresh database, once ready (migrations applied); everything is dropped afterwards.
func withUserDataService<Value: Sendable>(
    extra: [String: String] = [:], tokens: TestTokens = TestTokens(),
    _ body: @escaping @Sendable (any TestClientProtocol, UserDataStore) async throws -> Value
) async throws -> Value {
    try await withUserDataDatabase { database, store in
        try await userDataApp(database: database, tokens: tokens, extra: extra).testWhenReady(.router) { client async throws in
            try await body(client, store)
        }
    }
}

/// A pool on the test Redis for `body`, closed afterwards.
func withTestRedis<Value>(_ body: (RedisPool) async throws -> Value) async throws -> Value {
    let redis = RedisPool(configuration: try TestServers.redis(), logger: TestServers.logger)
    return try await TestDatabases.cleaningUp {
        try await body(redis)
    } cleanup: {
        await redis.connections.shutdown()
    }
}

/// A fresh tenant id for one test (`ud-<12 hex>`).
func userTenantID() -> String {
    "ud-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
}

/// A client address of this test alone (an IPv6 literal), so lockout counters of parallel tests never meet.
func uniqueClientAddress() -> String {
    let hex = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    return "fd00:"
        + stride(from: 0, to: 28, by: 4).map { offset -> String in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return String(hex[start..<hex.index(start, offsetBy: 4)])
        }.joined(separator: ":")
}

/// `X-Forwarded-For`, where a gateway (a service caller) names the client.
let forwardedFor = HTTPField.Name("X-Forwarded-For")!

/// `Authorization: Bearer <token>`.
func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

/// A user created through the API, with the password it was created with.
struct TestUser: Sendable {
    var id: String
    var email: String
    var username: String
    var password: String
}

/// A login as `POST /auth/login` returns it.
struct TestTokenPair: Decodable, Sendable {
    var accessToken: String
    var tokenType: String
    var expiresIn: Int
    var refreshToken: String
    var refreshExpiresIn: Int

    /// The wire names.
    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
        case refreshToken = "refresh_token", refreshExpiresIn = "refresh_expires_in"
    }
}

/// A unique email and username from `prefix` (`alice_<12 hex>` and `alice_<12 hex>@example.com`).
func uniqueIdentity(_ prefix: String) -> (email: String, username: String) {
    let name = TestServers.uniqueName(prefix)
    return ("\(name)@example.com", name)
}

/// A create body for `identity` with `password` and any `extra` members.
func createBody(_ identity: (email: String, username: String), password: String = "correct horse 1", extra: JSONObject = [:]) -> JSONValue {
    var body: JSONObject = ["email": .string(identity.email), "username": .string(identity.username), "password": .string(password)]
    for (key, value) in extra { body[key] = value }
    return .object(body)
}

extension TestClientProtocol {
    /// Creates a user as a service (in `tenant` when given) and records an issue unless the answer is 201.
    func createUser(
        _ prefix: String, tenant: String? = nil, password: String = "correct horse 1", extra: JSONObject = [:],
        headers: HTTPFields = [:], apiKey: String? = testAPIKey
    ) async throws -> TestUser {
        let identity = uniqueIdentity(prefix)
        let reply = try await self.call(
            .post, "/api/v1/users", tenant: tenant, body: createBody(identity, password: password, extra: extra), apiKey: apiKey, headers: headers)
        #expect(reply.status == 201, "create \(prefix): \(reply.body)")
        let id = try #require(reply["id"]?.stringValue, "create \(prefix): \(reply.body)")
        return TestUser(id: id, email: identity.email, username: identity.username, password: password)
    }

    /// `POST /auth/login` as the gateway would send it: the API key, the client in `X-Forwarded-For`.
    func login(
        email: String? = nil, username: String? = nil, password: String, tenant: String? = nil, from address: String
    ) async throws -> TestReply {
        var body: JSONObject = ["password": .string(password)]
        if let email { body["email"] = .string(email) }
        if let username { body["username"] = .string(username) }
        if let tenant { body["tenant_id"] = .string(tenant) }
        return try await self.call(.post, "/api/v1/auth/login", body: .object(body), headers: [forwardedFor: address])
    }

    /// Logs `user` in (optionally to `tenant`) and returns the pair; records an issue unless the answer is 200.
    func tokens(for user: TestUser, tenant: String? = nil, from address: String = uniqueClientAddress()) async throws -> TestTokenPair {
        let reply = try await self.login(email: user.email, password: user.password, tenant: tenant, from: address)
        #expect(reply.status == 200, "login \(user.username): \(reply.body)")
        return try reply.decode(TestTokenPair.self)
    }

    /// `POST /auth/refresh` with `token` (the endpoint still needs a caller: the API key).
    func refresh(_ token: String) async throws -> TestReply {
        try await self.call(.post, "/api/v1/auth/refresh", body: ["refresh_token": .string(token)])
    }

    /// Sends one request as the user of `accessToken` (no API key).
    func callAsUser(
        _ accessToken: String, _ method: HTTPRequest.Method, _ path: String, tenant: String? = nil, body: JSONValue? = nil
    ) async throws -> TestReply {
        try await self.call(method, path, tenant: tenant, body: body, apiKey: nil, headers: bearer(accessToken))
    }
}

/// The claims of a JWT, read from its payload segment without verifying anything.
func unverifiedClaims(_ token: String) -> JSONObject? {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3 else { return nil }
    var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
    guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
    return (try? JSONValue(jsonText: text))?.objectValue
}

/// The median of `values` (the upper one of the middle two for an even count).
func median(_ values: [Duration]) -> Duration {
    let sorted = values.sorted()
    return sorted.isEmpty ? .zero : sorted[sorted.count / 2]
}
