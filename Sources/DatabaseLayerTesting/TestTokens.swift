import Crypto
public import DatabaseLayer
public import Foundation
import JWTKit

/// A throwaway ES256 key pair and the tokens tests need: valid ones from the real signer, and the forged shapes
/// (unsigned, HS256 keyed with the public key, signed by a stranger) every service must refuse.
public struct TestTokens: Sendable {
    /// PKCS#8 PEM of the private key (what user-data-service reads from `JWT_PRIVATE_KEY`).
    public let privateKeyPEM: String
    /// SPKI PEM of the public key (`JWT_PUBLIC_KEY` of every service).
    public let publicKeyPEM: String
    /// The `iss` and `aud` the services expect by default.
    public let configuration = BearerTokenConfiguration(publicKeyPEM: nil)

    /// A new key pair.
    public init() {
        let key = P256.Signing.PrivateKey()
        self.privateKeyPEM = key.pemRepresentation
        self.publicKeyPEM = key.publicKey.pemRepresentation
    }

    /// The variables that make a service verify these tokens.
    public var environment: [String: String] { ["JWT_PUBLIC_KEY": self.publicKeyPEM] }

    /// The claims of a token for `user`, valid from `issuedAt` for `lifetime` seconds.
    public func claims(
        user: UUID = UUID(), tenant: String? = nil, roles: [String] = [], issuer: String? = nil, audience: String? = nil,
        issuedAt: Date = Date(), lifetime: TimeInterval = 300, id: String = UUID().lowercasedText
    ) -> AccessTokenClaims {
        AccessTokenClaims(
            subject: user.lowercasedText, issuer: issuer ?? self.configuration.issuer, audience: audience ?? self.configuration.audience,
            issuedAt: issuedAt, expiresAt: issuedAt.addingTimeInterval(lifetime), id: id, tenantID: tenant, roles: roles)
    }

    /// `claims` signed with this key pair (ES256).
    public func sign(_ claims: AccessTokenClaims) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: try ES256PrivateKey(pem: self.privateKeyPEM))
        return try await keys.sign(claims)
    }

    /// `claims` with `alg: none` and no signature.
    public func unsigned(_ claims: AccessTokenClaims) throws -> String {
        try Self.segment(["alg": "none", "typ": "JWT"]) + "." + Self.segment(claims) + "."
    }

    /// `claims` as HS256 with the public key PEM as the HMAC secret: the classic algorithm-confusion forgery.
    public func hs256KeyedWithPublicKey(_ claims: AccessTokenClaims) throws -> String {
        let input = try Self.segment(["alg": "HS256", "typ": "JWT"]) + "." + Self.segment(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(self.publicKeyPEM.utf8)))
        return input + "." + Self.base64URL(Data(mac))
    }

    private static func segment(_ value: some Encodable) throws -> String {
        Self.base64URL(try JSONEncoder().encode(value))
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }
}
