import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import DatabaseLayer

/// The logout deny-list in the real Redis: a token whose `jti` is listed is refused by any service's middleware.
@Suite(.enabled(if: TestServers.redisEnabled, TestServers.skipReason))
struct BearerDenyListTests {
    static let tokens = TestTokens()

    func application(redisURL: String) async throws -> some ApplicationProtocol {
        let http = try HTTPServiceConfiguration(
            environment: testServiceEnvironment(Self.tokens.environment.merging(["REDIS_URL": redisURL]) { $1 }),
            descriptor: ServiceDescriptor(name: "probe", defaultPort: 0))
        let runtime = ServiceRuntime(configuration: http, logger: TestServers.logger)
        try await runtime.enableBearerTokens()
        let router = runtime.makeRouter()
        router.get("/api/v1/whoami") { _, _ -> HTTPResponse.Status in .ok }
        return runtime.makeApplication(router: router)
    }

    @Test func aRevokedTokenIsRefusedUntilItWouldHaveExpired() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["TEST_REDIS_URL"])
        let claims = Self.tokens.claims()
        let token = try await Self.tokens.sign(claims)
        let other = try await Self.tokens.sign(Self.tokens.claims())
        let redis = RedisPool(configuration: try TestServers.redis(), logger: TestServers.logger)
        try await self.application(redisURL: url).test(.router) { client in
            let headers: HTTPFields = [.authorization: "Bearer \(token)"]
            #expect(try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: headers).status == 200)
            // What logout writes (user-data-service): the key lives as long as the token would have.
            try await redis.set(BearerTokenVerifier.revocationKey(tokenID: claims.tokenID), "1", expiresIn: 300)
            let revoked = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: headers)
            #expect(revoked.status == 401)
            #expect(revoked["detail"]?.stringValue?.contains("revoked") == true)
            let unrelated = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: [.authorization: "Bearer \(other)"])
            #expect(unrelated.status == 200, "only the listed jti is refused")
        }
    }
}
