import DatabaseLayer
import Foundation

/// Refresh tokens in `user_data.refresh_tokens`: issued per login (a family), rotated on every use, and revoked as
/// a family when a rotated token comes back (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
struct PostgresRefreshTokenStore: Sendable {
    let pool: PostgresPool

    /// Records a token of a new login (a new family) and stamps the user's `last_login_at`.
    func issue(_ token: RefreshToken, user: UUID, tenant: TenantID?, expiresAt: Date) async throws {
        try await self.pool.withTransaction(operation: "issue_refresh_token") { connection in
            try connection.query(
                """
                INSERT INTO user_data.refresh_tokens (id, user_id, family_id, token_hash, tenant_id, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                """, [UUID(), user, UUID(), token.hash, tenant?.rawValue, expiresAt])
            try connection.query("UPDATE user_data.users SET last_login_at = now() WHERE id = $1", [user])
        }
    }

    /// Exchanges the token whose hash is `presented` for `next`, in one transaction. A token that was already
    /// replaced revokes its family (and the revocation commits even though the answer is a refusal).
    func rotate(presented: String, next: RefreshToken, expiresAt: Date, now: Date) async throws -> RefreshOutcome {
        try await self.pool.withTransaction(operation: "rotate_refresh_token") { connection in
            // FOR UPDATE: of two racing uses of one token, the second sees it replaced and is treated as reuse.
            guard
                let row = try connection.query(
                    """
                    SELECT id, user_id, family_id, tenant_id, expires_at, revoked_at, replaced_by FROM user_data.refresh_tokens
                    WHERE token_hash = $1 FOR UPDATE
                    """, [presented]
                ).first
            else { return .invalid }
            let id: UUID = try row.decode("id")
            let family: UUID = try row.decode("family_id")
            if try row.decodeIfPresent("replaced_by", as: UUID.self) != nil {
                try Self.revokeFamily(connection, family: family)
                return .reused
            }
            let expiresAtOld: Date = try row.decode("expires_at")
            guard try row.decodeIfPresent("revoked_at", as: Date.self) == nil, expiresAtOld > now else { return .invalid }
            let userID: UUID = try row.decode("user_id")
            let tenant = try row.decodeIfPresent("tenant_id", as: String.self).flatMap(TenantID.init)
            // The user may have been deactivated, or removed from the tenant, since the login.
            guard let user = try connection.query("SELECT is_active, is_admin FROM user_data.users WHERE id = $1", [userID]).first,
                try user.decode("is_active", as: Bool.self)
            else {
                try Self.revokeFamily(connection, family: family)
                return .invalid
            }
            var role: String?
            if let tenant {
                try connection.query("SELECT set_config('app.current_tenant_id', $1, true)", [tenant.rawValue])
                role = try PostgresUserRepository.role(connection, user: userID, tenant: tenant)
                guard role != nil else {
                    try Self.revokeFamily(connection, family: family)
                    return .invalid
                }
            }
            let nextID = UUID()
            try connection.query(
                """
                INSERT INTO user_data.refresh_tokens (id, user_id, family_id, token_hash, tenant_id, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                """, [nextID, userID, family, next.hash, tenant?.rawValue, expiresAt])
            try connection.query(
                "UPDATE user_data.refresh_tokens SET revoked_at = now(), replaced_by = $2 WHERE id = $1", [id, nextID])
            return .rotated(user: userID, tenant: tenant, isAdmin: try user.decode("is_admin"), role: role)
        }
    }

    /// Revokes the family of the token whose hash is `presented`; false when no such token exists.
    func revokeFamily(ofTokenHash presented: String) async throws -> Bool {
        try await self.pool.withTransaction(operation: "revoke_refresh_tokens") { connection in
            guard let row = try connection.query("SELECT family_id FROM user_data.refresh_tokens WHERE token_hash = $1", [presented]).first
            else { return false }
            try Self.revokeFamily(connection, family: try row.decode("family_id"))
            return true
        }
    }

    private static func revokeFamily(_ connection: PostgresConnection, family: UUID) throws {
        try connection.query(
            "UPDATE user_data.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", [family])
    }
}

/// What presenting a refresh token led to.
enum RefreshOutcome: Sendable, Equatable {
    /// Rotated: issue a new access token for this user (and tenant, with this role).
    case rotated(user: UUID, tenant: TenantID?, isAdmin: Bool, role: String?)
    /// Unknown, expired, revoked, or its user is no longer allowed in.
    case invalid
    /// A token that was already rotated: the family is now revoked.
    case reused
}
