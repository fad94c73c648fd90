import Foundation
import HTTPTypes
import JWTKit
public import Logging

/// Verifies user access tokens: ES256 signature (the only algorithm accepted), `exp`, `nbf`, `iss`, `aud`, the
/// claim shapes, and, when Redis is configured, the deny-list that logout writes.
public struct BearerTokenVerifier: Sendable {
    private let keys: JWTKeyCollection
    private let configuration: BearerTokenConfiguration
    private let denyList: RedisPool?
    private let logger: Logger

    /// The only `alg` accepted. Checked before the signature, so `none` and an HS256 token keyed with the public
    /// key (algorithm confusion) are refused by name rather than left to the key's own check.
    static let algorithm = "ES256"

    /// The Redis key that marks token `id` as revoked until it would have expired anyway.
    public static func revocationKey(tokenID: String) -> String { "prismicx:revoked-access-token:\(tokenID)" }

    /// Creates a verifier; nil when no public key is configured.
    public init?(configuration: BearerTokenConfiguration, denyList: RedisPool?, logger: Logger) async throws {
        guard let pem = configuration.publicKeyPEM else { return nil }
        self.keys = JWTKeyCollection()
        await self.keys.add(ecdsa: try ES256PublicKey(pem: pem))
        self.configuration = configuration
        self.denyList = denyList
        self.logger = logger
    }

    /// The user behind `token`, or the 401 (503 when the deny-list cannot be read) that explains why not.
    public func verify(_ token: String) async throws(APIError) -> AuthenticatedUser {
        guard Self.headerAlgorithm(of: token) == Self.algorithm else {
            throw APIError.unauthorized("The bearer token is not valid: only \(Self.algorithm)-signed tokens are accepted.")
        }
        let claims: AccessTokenClaims
        do {
            claims = try await self.keys.verify(token, as: AccessTokenClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            let expired = error.failedClaim is ExpirationClaim
            throw APIError.unauthorized(expired ? "The bearer token has expired." : "The bearer token is not valid yet.")
        } catch {
            throw APIError.unauthorized("The bearer token is not valid.")
        }
        guard claims.issuer.value == self.configuration.issuer, claims.audience.value.contains(self.configuration.audience) else {
            throw APIError.unauthorized("The bearer token was not issued for this platform.")
        }
        guard let id = UUID(text: claims.subject.value), !claims.id.value.isEmpty else {
            throw APIError.unauthorized("The bearer token is not valid.")
        }
        var tenant: TenantID?
        if let raw = claims.tenantID {
            guard let parsed = TenantID(raw) else { throw APIError.unauthorized("The bearer token is not valid.") }
            tenant = parsed
        }
        if let denyList = self.denyList {
            let revoked: Bool
            do {
                revoked = try await denyList.command(["EXISTS", Self.revocationKey(tokenID: claims.id.value)]) == .integer(1)
            } catch {
                // Fails closed: accepting a logged-out token because Redis is down would make logout meaningless.
                self.logger.warning("cannot read the token deny-list", metadata: ["error": "\(String(reflecting: error))"])
                throw APIError(.serviceUnavailable, code: "unavailable", detail: "Token revocation cannot be checked right now.", retryAfter: 1)
            }
            if revoked { throw APIError.unauthorized("The bearer token has been revoked.") }
        }
        return AuthenticatedUser(id: id, roles: claims.roles, tenant: tenant, tokenID: claims.id.value, expiresAt: claims.expiration.value)
    }

    /// `alg` from the token's header, or nil when the header is not base64url JSON.
    static func headerAlgorithm(of token: String) -> String? {
        guard let end = token.firstIndex(of: "."), let data = Self.base64URLDecoded(token[..<end]),
            let header = try? JSONDecoder().decode(Header.self, from: data)
        else { return nil }
        return header.alg
    }

    private struct Header: Decodable {
        var alg: String
    }

    static func base64URLDecoded(_ text: Substring) -> Data? {
        var base64 = text.replacing("-", with: "+").replacing("_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: String(base64))
    }
}
