import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// Refresh rotation and reuse detection, logout across services, and the tokens the service must refuse.
@Suite(.enabled(if: userDataServersEnabled, TestServers.skipReason))
struct UserDataTokenIntegrationTests {
    /// A refresh gives a new pair and retires the old token; presenting it again revokes the whole family, so the
    /// rotated token dies too. The table holds only hashes.
    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        try await withUserDataService { client, store in
            let alice = try await client.createUser("refresh")
            let first = try await client.tokens(for: alice)
            let rotated = try await client.refresh(first.refreshToken)
            #expect(rotated.status == 200, "\(rotated.body)")
            let second = try rotated.decode(TestTokenPair.self)
            #expect(second.refreshToken != first.refreshToken && second.accessToken != first.accessToken)
            #expect(second.refreshToken.hasPrefix("rt_") && second.tokenType == "Bearer")
            #expect(unverifiedClaims(second.accessToken)?["sub"]?.stringValue == alice.id)
            #expect(try await client.callAsUser(second.accessToken, .get, "/api/v1/users/\(alice.id)").status == 200)

            let reused = try await client.refresh(first.refreshToken)
            #expect(reused.status == 401)
            #expect(reused.code == "refresh_token_reused")
            let afterReuse = try await client.refresh(second.refreshToken)
            #expect(afterReuse.status == 401, "the family is revoked: \(afterReuse.body)")
            #expect(afterReuse.code == "invalid_refresh_token")

            let rows = try await store.pool.query(
                """
                SELECT token_hash, revoked_at IS NOT NULL AS revoked, row_to_json(r)::text AS json
                FROM user_data.refresh_tokens r WHERE user_id = $1::uuid
                """,
                [alice.id])
            #expect(rows.rows.count == 2)
            for row in rows {
                let hash = try row.decode("token_hash", as: String.self)
                #expect(hash.count == 64 && hash.allSatisfy { $0.isHexDigit && !$0.isUppercase }, "a SHA-256 hex digest: \(hash.count) chars")
                #expect(try row.decode("revoked", as: Bool.self), "every token of the login is revoked")
                let json = try row.decode("json", as: String.self)
                for token in [first.refreshToken, second.refreshToken] {
                    #expect(!json.contains(token) && !json.contains(String(token.dropFirst(3))), "a raw token is stored")
                }
            }
            // Unknown and malformed tokens are plain 401s, and touch nothing.
            for token in ["rt_" + String(repeating: "A", count: 43), "not-a-token", ""] {
                let reply = try await client.refresh(token)
                #expect(reply.status == 401, "\(token): \(reply.body)")
                #expect(reply.code == "invalid_refresh_token", "\(token): \(reply.body)")
            }
            #expect(try await store.count("SELECT count(*)::int AS n FROM user_data.refresh_tokens") == 2)
            // A new login starts a new family that works; once expired, its token is refused.
            let third = try await client.tokens(for: alice)
            let fourth = try await client.refresh(third.refreshToken)
            #expect(fourth.status == 200)
            try await store.pool.query(
                "UPDATE user_data.refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1::uuid AND revoked_at IS NULL",
                [alice.id])
            let expired = try await client.refresh(try fourth.decode(TestTokenPair.self).refreshToken)
            #expect(expired.status == 401)
            #expect(expired.code == "invalid_refresh_token")
        }
    }

    /// Logout revokes the refresh family and deny-lists the access token: user-data and an independent service
    /// sharing Redis and `JWT_PUBLIC_KEY` both answer 401 for it from then on.
    @Test func logoutRevokesTheAccessTokenEverywhere() async throws {
        let tokens = TestTokens()
        try await withUserDataService(tokens: tokens) { client, store in
            let alice = try await client.createUser("logout")
            let pair = try await client.tokens(for: alice)
            let other = try await client.tokens(for: alice)
            try await ProbeServiceApp.makeApplication(environment: ProbeServiceApp.environment(tokens), logger: TestServers.logger)
                .test(.router) { probe async throws in
                    #expect(try await probe.callAsUser(pair.accessToken, .get, ProbeServiceApp.path).body == alice.id)

                    let loggedOut = try await client.call(
                        .post, "/api/v1/auth/logout", body: ["refresh_token": .string(pair.refreshToken)], apiKey: nil,
                        headers: bearer(pair.accessToken))
                    #expect(loggedOut.status == 204, "\(loggedOut.body)")
                    // The deny-list entry every service reads, kept until the token would have expired anyway.
                    let jti = try #require(unverifiedClaims(pair.accessToken)?["jti"]?.stringValue)
                    let ttl = try await withTestRedis { try await $0.timeToLive("prismicx:revoked-access-token:\(jti)") }
                    #expect((1...(pair.expiresIn + 10)).contains(ttl), "deny-list TTL \(ttl)")

                    let here = try await client.callAsUser(pair.accessToken, .get, "/api/v1/users/\(alice.id)")
                    #expect(here.status == 401, "user-data still accepts a logged-out token: \(here.body)")
                    let there = try await probe.callAsUser(pair.accessToken, .get, ProbeServiceApp.path)
                    #expect(there.status == 401, "another service still accepts a logged-out token: \(there.body)")
                    #expect(there["detail"]?.stringValue?.contains("revoked") == true)
                    // The other login of the same user is a different session: untouched.
                    #expect(try await probe.callAsUser(other.accessToken, .get, ProbeServiceApp.path).status == 200)
                }
            let refused = try await client.refresh(pair.refreshToken)
            #expect(refused.status == 401)
            #expect(refused.code == "invalid_refresh_token")
            #expect(try await client.callAsUser(other.accessToken, .get, "/api/v1/users/\(alice.id)").status == 200)
            #expect(try await client.refresh(other.refreshToken).status == 200)
            let live = try await store.count(
                "SELECT count(*)::int AS n FROM user_data.refresh_tokens WHERE user_id = $1::uuid AND revoked_at IS NULL", [alice.id])
            #expect(live == 1, "only the other login's rotated token is live")

            // A service may end a login by its refresh token alone; with neither token there is nothing to end.
            let third = try await client.tokens(for: alice)
            #expect(try await client.call(.post, "/api/v1/auth/logout", body: ["refresh_token": .string(third.refreshToken)]).status == 204)
            #expect(try await client.refresh(third.refreshToken).code == "invalid_refresh_token")
            let nothing = try await client.call(.post, "/api/v1/auth/logout", body: [:])
            #expect(nothing.status == 400)
            #expect(nothing.code == "invalid_body")
        }
    }

    /// Tokens this deployment did not issue, or no longer honours, are 401 here with the real stores behind;
    /// a token scoped to another tenant than `X-Tenant-ID` is 403 `tenant_mismatch`.
    @Test func foreignExpiredAndMismatchedTokens() async throws {
        let tokens = TestTokens()
        try await withUserDataService(tokens: tokens) { client, _ in
            let tenant = userTenantID()
            let alice = try await client.createUser("tokens", tenant: tenant)
            let user = try #require(UUID(uuidString: alice.id))
            let stranger = TestTokens()
            let refused = [
                ("expired", try await tokens.sign(tokens.claims(user: user, issuedAt: Date().addingTimeInterval(-600), lifetime: 60))),
                ("not yet valid", try await tokens.sign(tokens.claims(user: user, issuedAt: Date().addingTimeInterval(600)))),
                ("unsigned", try tokens.unsigned(tokens.claims(user: user))),
                ("HS256 keyed with the public key", try tokens.hs256KeyedWithPublicKey(tokens.claims(user: user))),
                ("another key", try await stranger.sign(stranger.claims(user: user))),
                ("another issuer", try await tokens.sign(tokens.claims(user: user, issuer: "someone-else"))),
                ("another audience", try await tokens.sign(tokens.claims(user: user, audience: "another-platform"))),
                ("garbage", "not.a.token"),
            ]
            for (label, token) in refused {
                let reply = try await client.callAsUser(token, .get, "/api/v1/users/\(alice.id)")
                #expect(reply.status == 401, "\(label): \(reply.body)")
                #expect(!reply.body.contains(alice.email))
            }
            // The same key pair signs what the service accepts: a fresh token for the same user works.
            let valid = try await tokens.sign(tokens.claims(user: user))
            #expect(try await client.callAsUser(valid, .get, "/api/v1/users/\(alice.id)").status == 200)

            let pair = try await client.tokens(for: alice, tenant: tenant)
            #expect(try await client.callAsUser(pair.accessToken, .get, "/api/v1/users/\(alice.id)", tenant: tenant).status == 200)
            let mismatch = try await client.callAsUser(pair.accessToken, .get, "/api/v1/users/\(alice.id)", tenant: userTenantID())
            #expect(mismatch.status == 403)
            #expect(mismatch.code == "tenant_mismatch")
            let untenanted = try await client.tokens(for: alice)
            let widened = try await client.callAsUser(untenanted.accessToken, .get, "/api/v1/users/\(alice.id)", tenant: tenant)
            #expect(widened.status == 403, "a token without a tenant cannot pick one: \(widened.body)")
            #expect(widened.code == "tenant_mismatch")
        }
    }
}

/// The smallest service built like every other (``ServiceApplication``): one authenticated route that answers
/// the calling user's id. It stands for "any other service" that shares Redis and `JWT_PUBLIC_KEY`.
enum ProbeServiceApp: ServiceApplication {
    /// Its configuration: the shared settings only.
    struct Configuration: ServiceConfiguration {
        static let descriptor = ServiceDescriptor(name: "probe-service", defaultPort: 0)
        var http: HTTPServiceConfiguration
        init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError) { self.http = http }
    }

    /// The route.
    static let path = "/api/v1/whoami"

    /// The variables: the test Redis (from ``testServiceEnvironment(_:)``) and the public key only.
    static func environment(_ tokens: TestTokens) -> ServiceEnvironment {
        testServiceEnvironment(tokens.environment)
    }

    /// Answers `GET /whoami` with the user id of a bearer caller, `service` for the API key.
    static func build(configuration: Configuration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get("/whoami") { _, context -> String in
            if case .user(let user) = context.caller { return user.id.uuidString.lowercased() }
            return "service"
        }
        let api = RouteCollection(context: ServiceRequestContext.self)
        api.addRoutes(routes, atPath: "/api/v1")
        return api
    }
}
