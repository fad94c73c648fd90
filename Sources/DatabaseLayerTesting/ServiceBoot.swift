public import DatabaseLayer
import Foundation
public import Hummingbird
import HummingbirdTesting
import Testing

/// Boot checks every service's test target runs: it starts against the test servers and reports its stores.
public enum ServiceBoot {
    /// The readiness body of `app` once it has started (startup work done): asserts 200 and decodes the checks.
    public static func readiness(_ app: some ApplicationProtocol) async throws -> ReadinessReport {
        try await app.testWhenReady { client in
            try await client.execute(uri: "/health/ready", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(ReadinessReport.self, from: Data(response.body.readableBytesView))
            }
        }
    }

    /// The MongoDB URI of `server` with `database` as its path.
    public static func uri(_ server: MongoTestServer, database: String) -> String {
        let uri = server.uri
        if let query = uri.range(of: "/?") { return uri.replacingCharacters(in: query, with: "/\(database)?") }
        return uri.hasSuffix("/") ? uri + database : uri + "/" + database
    }

    /// The test PostgreSQL as `postgresql://user@host:port/database`.
    public static func postgresURI(database: String) throws -> String {
        let postgres = try TestServers.postgres()
        return "postgresql://\(postgres.user)@\(postgres.host):\(postgres.port)/\(database)"
    }
}

extension ServiceBoot {
    /// Checks that a service built by `make` verifies bearer tokens with the shared middleware: stale, forged and
    /// foreign tokens get 401 at `path`, a valid one gets past authentication (`validStatus` decides what it then
    /// gets), a service without `JWT_PUBLIC_KEY` refuses tokens saying so, and, when the test Redis is configured,
    /// a token on the logout deny-list gets 401.
    /// - Parameters:
    ///   - make: builds the service from extra variables (merged over the service's own test environment).
    ///   - path: a business path of the service.
    ///   - waitUntilReady: wait for startup work first (stores needed), so a valid token reaches the route.
    ///   - validStatus: checks the status a valid user token gets.
    public static func checkBearerTokens<App: ApplicationProtocol>(
        path: String, waitUntilReady: Bool = false, make: ([String: String]) async throws -> App,
        validStatus: @escaping @Sendable (Int) -> Bool
    ) async throws {
        let tokens = TestTokens()
        let stranger = TestTokens()
        let now = Date()
        let claims = tokens.claims(roles: ["admin"])
        let valid = try await tokens.sign(claims)
        let refused = [
            try await tokens.sign(tokens.claims(issuedAt: now.addingTimeInterval(-600), lifetime: 60)),
            try tokens.unsigned(tokens.claims()),
            try tokens.hs256KeyedWithPublicKey(tokens.claims()),
            try await stranger.sign(stranger.claims()),
        ]
        try await make(tokens.environment).test(.router) { client in
            if waitUntilReady { try await client.waitUntilReady() }
            for token in refused {
                let reply = try await client.call(.get, path, apiKey: nil, headers: [.authorization: "Bearer \(token)"])
                #expect(reply.status == 401, "\(path): \(reply.body)")
            }
            let reply = try await client.call(.get, path, apiKey: nil, headers: [.authorization: "Bearer \(valid)"])
            #expect(reply.status != 401 && validStatus(reply.status), "\(path) with a valid token: \(reply.status) \(reply.body)")
            if let url = ProcessInfo.processInfo.environment["TEST_REDIS_URL"] {
                let redis = RedisPool(configuration: try RedisConfiguration(url: url), logger: TestServers.logger)
                try await redis.set(BearerTokenVerifier.revocationKey(tokenID: claims.tokenID), "1", expiresIn: 60)
                let revoked = try await client.call(.get, path, apiKey: nil, headers: [.authorization: "Bearer \(valid)"])
                #expect(revoked.status == 401, "\(path) with a revoked token: \(revoked.body)")
            }
        }
        try await make([:]).test(.router) { client in
            let reply = try await client.call(.get, path, apiKey: nil, headers: [.authorization: "Bearer \(valid)"])
            #expect(reply.status == 401)
            #expect(reply["detail"]?.stringValue?.contains("JWT_PUBLIC_KEY") == true)
        }
    }
}
