import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import DatabaseLayer

/// Bearer tokens through the shared middleware, as every service mounts it; no server needed (no Redis, so no
/// deny-list here: that is in the integration suite).
@Suite struct BearerTokenTests {
    static let tokens = TestTokens()

    /// A runtime router with a route that reports the caller and tenant, and one for service callers only.
    func application(_ extra: [String: String] = BearerTokenTests.tokens.environment) async throws -> some ApplicationProtocol {
        let http = try HTTPServiceConfiguration(
            environment: testServiceEnvironment(["REDIS_URL": ""].merging(extra) { $1 }),
            descriptor: ServiceDescriptor(name: "probe", defaultPort: 0))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let runtime = ServiceRuntime(configuration: http, logger: logger)
        try await runtime.enableBearerTokens()
        let router = runtime.makeRouter()
        router.get("/api/v1/whoami") { _, context -> String in
            let caller: String
            switch context.caller {
            case .service: caller = "service"
            case .user(let user): caller = "user \(user.id.uuidString.lowercased()) \(user.roles.joined(separator: ","))"
            case nil: caller = "nobody"
            }
            return "\(caller) tenant=\(context.tenant?.rawValue ?? "-")"
        }
        let serviceOnly = RouteCollection(context: ServiceRequestContext.self).add(middleware: ServiceCallersOnlyMiddleware())
        serviceOnly.post("/provision") { _, _ -> HTTPResponse.Status in .noContent }
        router.addRoutes(serviceOnly, atPath: "/api/v1/admin")
        return runtime.makeApplication(router: router)
    }

    func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test func aValidTokenAuthenticatesTheUserAndScopesTheTenant() async throws {
        let user = UUID()
        let token = try await Self.tokens.sign(Self.tokens.claims(user: user, tenant: "acme", roles: ["admin", "member"]))
        try await self.application().test(.router) { client in
            let reply = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: self.bearer(token))
            #expect(reply.status == 200)
            #expect(reply.body == "user \(user.uuidString.lowercased()) admin,member tenant=acme")
            let same = try await client.call(.get, "/api/v1/whoami", tenant: "acme", apiKey: nil, headers: self.bearer(token))
            #expect(same.status == 200, "X-Tenant-ID may repeat the token's tenant")
            let lowercaseScheme = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: [.authorization: "bearer \(token)"])
            #expect(lowercaseScheme.status == 200)
        }
    }

    @Test func theRealSignerIssuesWhatTheVerifierAccepts() async throws {
        let signer = try await AccessTokenSigner(
            privateKeyPEM: Self.tokens.privateKeyPEM, configuration: Self.tokens.configuration, lifetime: .seconds(900))
        let user = UUID()
        let (token, claims) = try await signer.sign(user: user, tenant: TenantID("acme"), roles: ["member"])
        #expect(claims.expiresAt.timeIntervalSince(claims.issuedAtDate) == 900)
        try await self.application().test(.router) { client in
            let reply = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: self.bearer(token))
            #expect(reply.body == "user \(user.uuidString.lowercased()) member tenant=acme")
        }
    }

    /// Forged, stale and foreign tokens: all 401, with a detail that says which.
    @Test func badTokensAreRefusedWith401() async throws {
        let tokens = Self.tokens
        let stranger = TestTokens()
        let now = Date()
        let cases: [(String, String, String)] = [
            ("expired", try await tokens.sign(tokens.claims(issuedAt: now.addingTimeInterval(-600), lifetime: 60)), "expired"),
            ("not yet valid", try await tokens.sign(tokens.claims(issuedAt: now.addingTimeInterval(600))), "not valid yet"),
            ("wrong issuer", try await tokens.sign(tokens.claims(issuer: "someone-else")), "not issued for this platform"),
            ("wrong audience", try await tokens.sign(tokens.claims(audience: "another-platform")), "not issued for this platform"),
            ("another key", try await stranger.sign(stranger.claims()), "not valid"),
            ("alg none", try tokens.unsigned(tokens.claims()), "only ES256"),
            ("HS256 keyed with the public key", try tokens.hs256KeyedWithPublicKey(tokens.claims()), "only ES256"),
            ("garbage", "not-a-jwt", "only ES256"),
            ("bad tenant claim", try await tokens.sign(tokens.claims(tenant: "Not A Tenant!")), "not valid"),
        ]
        try await self.application().test(.router) { client in
            for (name, token, detail) in cases {
                let reply = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: self.bearer(token))
                #expect(reply.status == 401, "\(name)")
                #expect(reply.code == "unauthorized", "\(name)")
                #expect(reply["detail"]?.stringValue?.contains(detail) == true, "\(name): \(reply.body)")
            }
            let basic = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.status == 401)
            let nothing = try await client.call(.get, "/api/v1/whoami", apiKey: nil)
            #expect(nothing.status == 401)
            #expect(nothing["detail"]?.stringValue?.contains("Bearer") == true)
        }
    }

    @Test func withoutAPublicKeyBearerTokensGet401SayingSo() async throws {
        let token = try await Self.tokens.sign(Self.tokens.claims())
        try await self.application([:]).test(.router) { client in
            let reply = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: self.bearer(token))
            #expect(reply.status == 401)
            #expect(reply["detail"]?.stringValue?.contains("JWT_PUBLIC_KEY is not configured") == true)
            #expect(try await client.call(.get, "/api/v1/whoami").status == 200, "the API key still works")
        }
    }

    @Test func aTenantOtherThanTheTokensIs403() async throws {
        let scoped = try await Self.tokens.sign(Self.tokens.claims(tenant: "acme"))
        let unscoped = try await Self.tokens.sign(Self.tokens.claims())
        try await self.application().test(.router) { client in
            let other = try await client.call(.get, "/api/v1/whoami", tenant: "globex", apiKey: nil, headers: self.bearer(scoped))
            #expect(other.status == 403)
            #expect(other.code == "tenant_mismatch")
            let picked = try await client.call(.get, "/api/v1/whoami", tenant: "globex", apiKey: nil, headers: self.bearer(unscoped))
            #expect(picked.status == 403, "a token without a tenant cannot pick one")
            #expect(picked.code == "tenant_mismatch")
            let service = try await client.call(.get, "/api/v1/whoami", tenant: "globex")
            #expect(service.body == "service tenant=globex", "a service chooses the tenant with the header")
        }
    }

    @Test func aUserTokenCannotReachServiceOnlyRoutes() async throws {
        let admin = try await Self.tokens.sign(Self.tokens.claims(roles: ["admin"]))
        try await self.application().test(.router) { client in
            let reply = try await client.call(.post, "/api/v1/admin/provision", apiKey: nil, headers: self.bearer(admin))
            #expect(reply.status == 403)
            #expect(reply.code == "service_caller_required")
            #expect(try await client.call(.post, "/api/v1/admin/provision").status == 204)
        }
    }

    @Test func anUnreadableDenyListFailsClosedForUsersOnly() async throws {
        let token = try await Self.tokens.sign(Self.tokens.claims())
        // Nothing listens on port 1: every deny-list lookup fails at once.
        try await self.application(Self.tokens.environment.merging(["REDIS_URL": "redis://127.0.0.1:1"]) { $1 }).test(.router) { client in
            let reply = try await client.call(.get, "/api/v1/whoami", apiKey: nil, headers: self.bearer(token))
            #expect(reply.status == 503)
            #expect(reply.headers[.retryAfter] != nil)
            #expect(try await client.call(.get, "/api/v1/whoami").status == 200, "service callers do not depend on the list")
        }
    }

    @Test func theKeyVariableIsValidatedAndMayUseEscapedNewlines() throws {
        #expect(throws: ConfigurationError.self) {
            let pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"
            _ = try BearerTokenConfiguration(environment: ServiceEnvironment(["JWT_PUBLIC_KEY": pem]))
        }
        let oneLine = Self.tokens.publicKeyPEM.replacing("\n", with: "\\n")
        let configuration = try BearerTokenConfiguration(environment: ServiceEnvironment(["JWT_PUBLIC_KEY": oneLine, "JWT_ISSUER": "issuer-x"]))
        #expect(configuration.publicKeyPEM == Self.tokens.publicKeyPEM)
        #expect(configuration.issuer == "issuer-x")
        #expect(configuration.audience == "prismicx-data-services")
    }
}
