public import Foundation
import JWTKit

/// Issues user access tokens with the ES256 private key (`JWT_PRIVATE_KEY`); only user-data-service holds one.
public struct AccessTokenSigner: Sendable {
    private let keys: JWTKeyCollection
    /// `iss` and `aud` of every token, the values the verifiers expect.
    public let configuration: BearerTokenConfiguration
    /// How long an access token lives.
    public let lifetime: Duration

    /// Creates a signer from a PEM-encoded P-256 private key; `variable` names it in the error.
    public init(privateKeyPEM: String, configuration: BearerTokenConfiguration, lifetime: Duration, variable: String = "JWT_PRIVATE_KEY")
        async throws(ConfigurationError)
    {
        let key: ES256PrivateKey
        do {
            key = try ES256PrivateKey(pem: BearerTokenConfiguration.unescapedPEM(privateKeyPEM))
        } catch {
            throw ConfigurationError(variable: variable, reason: "must be a PEM-encoded P-256 (ES256) private key")
        }
        self.keys = JWTKeyCollection()
        await self.keys.add(ecdsa: key)
        self.configuration = configuration
        self.lifetime = lifetime
    }

    /// A signed token for `user`, with a fresh `jti`; returns the token and its claims.
    public func sign(user: UUID, tenant: TenantID?, roles: [String], now: Date = Date()) async throws -> (token: String, claims: AccessTokenClaims) {
        let claims = AccessTokenClaims(
            subject: user.lowercasedText, issuer: self.configuration.issuer, audience: self.configuration.audience,
            issuedAt: now, expiresAt: now.addingTimeInterval(TimeInterval(self.lifetime.components.seconds)),
            id: UUID().lowercasedText, tenantID: tenant?.rawValue, roles: roles)
        return (try await self.keys.sign(claims), claims)
    }
}
