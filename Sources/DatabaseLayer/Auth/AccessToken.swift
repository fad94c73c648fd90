public import Foundation
public import JWTKit

/// The claims of a user access token issued by user-data-service and accepted by every service.
public struct AccessTokenClaims: JWTPayload, Equatable {
    /// `sub`: the user's id (a UUID).
    public var subject: SubjectClaim
    /// `iss`: who issued it (`JWT_ISSUER`).
    public var issuer: IssuerClaim
    /// `aud`: who it is for (`JWT_AUDIENCE`).
    public var audience: AudienceClaim
    /// `exp`.
    public var expiration: ExpirationClaim
    /// `nbf`.
    public var notBefore: NotBeforeClaim
    /// `iat`.
    public var issuedAt: IssuedAtClaim
    /// `jti`: what logout puts on the deny-list.
    public var id: IDClaim
    /// `tenant_id`: the tenant the user logged in to; the request's tenant when present.
    public var tenantID: String?
    /// `roles`: `admin` for an administrator, plus the user's role in the tenant.
    public var roles: [String]

    enum CodingKeys: String, CodingKey {
        case subject = "sub", issuer = "iss", audience = "aud", expiration = "exp", notBefore = "nbf", issuedAt = "iat", id = "jti"
        case tenantID = "tenant_id", roles
    }

    /// Creates the claims.
    public init(
        subject: String, issuer: String, audience: String, issuedAt: Date, expiresAt: Date, id: String, tenantID: String?, roles: [String]
    ) {
        self.subject = SubjectClaim(value: subject)
        self.issuer = IssuerClaim(value: issuer)
        self.audience = AudienceClaim(value: [audience])
        self.expiration = ExpirationClaim(value: expiresAt)
        self.notBefore = NotBeforeClaim(value: issuedAt)
        self.issuedAt = IssuedAtClaim(value: issuedAt)
        self.id = IDClaim(value: id)
        self.tenantID = tenantID
        self.roles = roles
    }

    /// `exp` as a date.
    public var expiresAt: Date { self.expiration.value }
    /// `iat` as a date.
    public var issuedAtDate: Date { self.issuedAt.value }
    /// `jti`.
    public var tokenID: String { self.id.value }

    /// Time claims, with a few seconds' leeway for clocks that differ between hosts; `iss` and `aud` are checked by
    /// ``BearerTokenVerifier``, which knows the expected values.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        let now = Date()
        try self.expiration.verifyNotExpired(currentDate: now.addingTimeInterval(-AccessTokenClaims.leewaySeconds))
        try self.notBefore.verifyNotBefore(currentDate: now.addingTimeInterval(AccessTokenClaims.leewaySeconds))
    }

    /// Allowed clock difference, in seconds.
    public static let leewaySeconds: TimeInterval = 5
}

/// Who made a request: a service with the API key, or a user with a verified bearer token.
public enum Caller: Sendable, Equatable {
    /// `X-API-Key`: another service, trusted with every endpoint.
    case service
    /// `Authorization: Bearer`: a user, limited to what the endpoint allows users.
    case user(AuthenticatedUser)
}

/// The user behind a verified access token.
public struct AuthenticatedUser: Sendable, Equatable {
    /// `sub`.
    public var id: UUID
    /// `roles`.
    public var roles: [String]
    /// `tenant_id`, when the token is scoped to a tenant.
    public var tenant: TenantID?
    /// `jti`.
    public var tokenID: String
    /// `exp`.
    public var expiresAt: Date

    /// Creates the description of a verified user.
    public init(id: UUID, roles: [String], tenant: TenantID?, tokenID: String, expiresAt: Date) {
        self.id = id
        self.roles = roles
        self.tenant = tenant
        self.tokenID = tokenID
        self.expiresAt = expiresAt
    }

    /// Whether the token carries the `admin` role.
    public var isAdmin: Bool { self.roles.contains("admin") }
}

/// `JWT_PUBLIC_KEY`, `JWT_ISSUER`, `JWT_AUDIENCE`: how every service verifies bearer tokens.
public struct BearerTokenConfiguration: Sendable {
    /// The ES256 (P-256) public key, PEM; nil when `JWT_PUBLIC_KEY` is unset (bearer tokens then get 401).
    public var publicKeyPEM: String?
    /// Expected `iss`.
    public var issuer: String
    /// Expected `aud`.
    public var audience: String

    /// Creates a configuration.
    public init(publicKeyPEM: String?, issuer: String = "user-data-service", audience: String = "prismicx-data-services") {
        self.publicKeyPEM = publicKeyPEM
        self.issuer = issuer
        self.audience = audience
    }

    /// Reads the variables; a key that is set but not a P-256 public key PEM is a configuration error.
    public init(environment: ServiceEnvironment) throws(ConfigurationError) {
        let pem = environment.string("JWT_PUBLIC_KEY").flatMap { $0.isEmpty ? nil : Self.unescapedPEM($0) }
        if let pem {
            do {
                _ = try ES256PublicKey(pem: pem)
            } catch {
                throw ConfigurationError(variable: "JWT_PUBLIC_KEY", reason: "must be a PEM-encoded P-256 (ES256) public key")
            }
        }
        self.init(
            publicKeyPEM: pem, issuer: environment.string("JWT_ISSUER", default: "user-data-service"),
            audience: environment.string("JWT_AUDIENCE", default: "prismicx-data-services"))
    }

    /// `.env` files and compose often carry a PEM on one line with `\n` escapes.
    static func unescapedPEM(_ text: String) -> String {
        text.contains("\\n") ? text.replacing("\\n", with: "\n") : text
    }
}
