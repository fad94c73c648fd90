import DatabaseLayer
import Foundation
import Logging

/// The user and authentication operations behind the routes: who may do what, the `user:<id>` cache in front of
/// the repository, password hashing, and token issue, rotation and revocation.
///
/// The routes only decode and encode; every rule of the issue ("a plain user only changes their own profile",
/// "an unknown user costs a bcrypt verify") lives here, where the unit and integration tests reach it.
struct UserManager: Sendable {
    let users: PostgresUserRepository
    let refreshTokens: PostgresRefreshTokenStore
    let hasher: PasswordHasher
    /// nil without `JWT_PRIVATE_KEY`: login and refresh answer 503.
    let signer: AccessTokenSigner?
    let throttle: LoginThrottle
    /// `user:<id>` → the public ``User``; nil without Redis or with `USER_CACHE_TTL_SECONDS=0`.
    let userCache: RedisCache?
    /// `member:<tenant>:<id>` → the role; membership only ends when the user is deleted, which drops `user:<id>` first.
    let memberCache: RedisCache?
    /// The deny-list for logged-out access tokens (the same Redis every service's verifier reads).
    let denyList: RedisPool?
    let refreshTokenLifetime: Duration
    let logger: Logger

    // MARK: Users

    /// Creates a user; only a service or an admin may.
    func create(_ request: CreateUserRequest, caller: Caller?, tenant: TenantID?) async throws -> User {
        try Self.requireServiceOrAdmin(caller)
        let user = try request.validated(tenant: tenant)
        let hash = try await user.password.asyncMap { try await self.hasher.hash($0) }
        return try await self.users.create(user, hashedPassword: hash)
    }

    /// One page of users (of the tenant's members when there is a tenant); only a service or an admin may list.
    func list(caller: Caller?, tenant: TenantID?, page: PageRequest) async throws -> Page<User> {
        try Self.requireServiceOrAdmin(caller)
        let after = try page.cursor.map { cursor throws(APIError) in try Self.position(cursor) }
        let rows = try await self.users.list(tenant: tenant, after: after, limit: page.limit)
        // Microseconds, as an integer: `created_at` has them, and a millisecond cursor would repeat or skip rows.
        return Page(rows: rows, request: page) { user in
            PageCursor(values: [.int(Int64((user.createdAt.timeIntervalSince1970 * 1_000_000).rounded())), .string(user.id.lowercasedText)])
        }
    }

    /// The user, through the cache; a plain user may read only themselves, and a tenant sees only its members.
    func get(_ id: UUID, caller: Caller?, tenant: TenantID?) async throws -> User {
        try Self.requireSelfOrPrivileged(caller, target: id)
        guard let user = try await self.cachedUser(id) else { throw UserError.notFound }
        if let tenant { guard try await self.cachedRole(id, tenant: tenant) != nil else { throw UserError.notFound } }
        return user
    }

    /// Applies an update; a plain user may change only their own profile, email, username and password, and
    /// needs `current_password` for the last. Nothing is written when a rule refuses.
    func update(_ id: UUID, _ request: UpdateUserRequest, caller: Caller?, tenant: TenantID?) async throws -> User {
        let changes = try request.validated()
        try Self.requireSelfOrPrivileged(caller, target: id)
        if case .user(let user) = caller, !user.isAdmin {
            guard !changes.changesPrivileges else { throw UserError.forbidden("Only an admin or a service may change is_active or is_admin.") }
            if changes.password != nil {
                guard let current = request.currentPassword,
                    try await self.hasher.verify(current, hash: try await self.users.hashedPassword(id))
                else { throw UserError.currentPasswordInvalid }
            }
        }
        let hash = try await changes.password.asyncMap { try await self.hasher.hash($0) }
        guard let updated = try await self.users.update(id, changes: changes, hashedPassword: hash, tenant: tenant) else {
            throw UserError.notFound
        }
        await self.invalidate(id)
        return updated
    }

    /// Deletes the user and everything of theirs; only a service or an admin may.
    func delete(_ id: UUID, caller: Caller?, tenant: TenantID?) async throws {
        try Self.requireServiceOrAdmin(caller)
        guard try await self.users.delete(id, tenant: tenant) else { throw UserError.notFound }
        await self.invalidate(id)
    }

    /// The user's preferences; the same caller rules as reading the user.
    func preferences(_ id: UUID, caller: Caller?, tenant: TenantID?) async throws -> JSONObject {
        try Self.requireSelfOrPrivileged(caller, target: id)
        guard let preferences = try await self.users.preferences(id, tenant: tenant) else { throw UserError.notFound }
        return preferences
    }

    /// Replaces the user's preferences.
    func replacePreferences(_ id: UUID, _ preferences: JSONObject, caller: Caller?, tenant: TenantID?) async throws -> JSONObject {
        let checked = try UserValidation.preferences(preferences)
        try Self.requireSelfOrPrivileged(caller, target: id)
        guard let stored = try await self.users.replacePreferences(id, with: checked, tenant: tenant) else { throw UserError.notFound }
        return stored
    }

    // MARK: Authentication

    /// Checks the password and issues a token pair. Every refusal is the same 401 after the same bcrypt work.
    func login(_ attempt: LoginAttempt, client: String) async throws -> TokenPair {
        guard let signer = self.signer else { throw UserError.signingUnavailable }
        let stored = try await self.users.credentials(for: attempt.identifier)
        // One counter per account, whether it is named by email or by username; per name for unknown users.
        let account = stored.map { LoginThrottle.Account.user($0.id) } ?? .unknown(attempt.identifier)
        try await self.throttle.check(account: account, client: client)
        let matches = try await self.hasher.verify(attempt.password, hash: stored?.hashedPassword)
        var role: String?
        if let stored, matches, stored.isActive, let tenant = attempt.tenant {
            role = try await self.users.membership(stored.id, tenant: tenant)
        }
        guard let stored, matches, stored.isActive, attempt.tenant == nil || role != nil else {
            await self.throttle.recordFailure(account: account, client: client)
            self.logger.info("login refused", metadata: ["client": .string(client)])
            throw UserError.invalidCredentials
        }
        await self.throttle.recordSuccess(account: account)
        let refresh = RefreshToken.generate()
        let now = Date()
        try await self.refreshTokens.issue(refresh, user: stored.id, tenant: attempt.tenant, expiresAt: self.refreshExpiry(from: now))
        await self.invalidate(stored.id)  // last_login_at changed
        return try await self.pair(
            signer: signer, user: stored.id, tenant: attempt.tenant, roles: Self.roles(isAdmin: stored.isAdmin, tenantRole: role),
            refresh: refresh, now: now)
    }

    /// Rotates a refresh token into a new pair.
    func refresh(_ presented: String) async throws -> TokenPair {
        guard let signer = self.signer else { throw UserError.signingUnavailable }
        guard let hash = RefreshToken.presentedHash(presented) else { throw UserError.invalidRefreshToken }
        let next = RefreshToken.generate()
        let now = Date()
        switch try await self.refreshTokens.rotate(presented: hash, next: next, expiresAt: self.refreshExpiry(from: now), now: now) {
        case .invalid:
            throw UserError.invalidRefreshToken
        case .reused:
            self.logger.warning("refresh token reused; its family is revoked")
            throw UserError.refreshTokenReused
        case .rotated(let user, let tenant, let isAdmin, let role):
            return try await self.pair(
                signer: signer, user: user, tenant: tenant, roles: Self.roles(isAdmin: isAdmin, tenantRole: role), refresh: next, now: now)
        }
    }

    /// Revokes the refresh token's family and, for a user caller, deny-lists the access token until it expires.
    func logout(refreshToken: String?, caller: Caller?) async throws {
        var user: AuthenticatedUser?
        if case .user(let authenticated) = caller { user = authenticated }
        guard refreshToken != nil || user != nil else {
            throw UserError.invalidBody("Send refresh_token, or call with the access token to log out (Authorization: Bearer).")
        }
        if let user, let denyList = self.denyList {
            let seconds = Int(user.expiresAt.timeIntervalSinceNow.rounded(.up)) + Int(AccessTokenClaims.leewaySeconds)
            if seconds > 0 {
                do {
                    try await denyList.set(BearerTokenVerifier.revocationKey(tokenID: user.tokenID), "1", expiresIn: seconds)
                } catch {
                    self.logger.error("logout: cannot write the token deny-list", metadata: ["error": .string(String(reflecting: error))])
                    throw UserError.denyListUnavailable
                }
            }
        }
        // An unknown token is not an error: logging out twice ends in the same state.
        if let refreshToken, let hash = RefreshToken.presentedHash(refreshToken) {
            _ = try await self.refreshTokens.revokeFamily(ofTokenHash: hash)
        }
    }

    // MARK: Helpers

    private func pair(signer: AccessTokenSigner, user: UUID, tenant: TenantID?, roles: [String], refresh: RefreshToken, now: Date) async throws
        -> TokenPair
    {
        let (token, _) = try await signer.sign(user: user, tenant: tenant, roles: roles, now: now)
        return TokenPair(
            accessToken: token, expiresIn: Int(signer.lifetime.components.seconds), refreshToken: refresh.value,
            refreshExpiresIn: Int(self.refreshTokenLifetime.components.seconds))
    }

    private func refreshExpiry(from now: Date) -> Date { now.addingTimeInterval(TimeInterval(self.refreshTokenLifetime.components.seconds)) }

    /// `admin` for a global admin, `tenant:<role>` for the tenant role, kept apart so a tenant role named
    /// "admin" grants nothing outside its tenant.
    static func roles(isAdmin: Bool, tenantRole: String?) -> [String] {
        (isAdmin ? ["admin"] : []) + (tenantRole.map { ["tenant:\($0)"] } ?? [])
    }

    private func cachedUser(_ id: UUID) async throws -> User? {
        let key = id.lowercasedText
        guard let cache = self.userCache else { return try await self.users.get(id) }
        return try await cache.value(for: key, as: User.self) { try await self.users.get(id) }
    }

    private func cachedRole(_ id: UUID, tenant: TenantID) async throws -> String? {
        guard let cache = self.memberCache else { return try await self.users.membership(id, tenant: tenant) }
        return try await cache.value(for: "\(tenant.rawValue):\(id.lowercasedText)", as: String.self) {
            try await self.users.membership(id, tenant: tenant)
        }
    }

    /// Drops `user:<id>`; a failure is logged and the entry expires by its TTL (the write already committed).
    private func invalidate(_ id: UUID) async {
        do {
            try await self.userCache?.invalidate(id.lowercasedText)
        } catch {
            self.logger.warning("user cache invalidation failed; the entry expires by TTL", metadata: ["error": .string(String(reflecting: error))])
        }
    }

    private static func position(_ cursor: PageCursor) throws(APIError) -> (createdAt: Date, id: UUID) {
        guard cursor.values.count == 2, case .int(let micros) = cursor.values[0], let raw = cursor.values[1].stringValue,
            let id = UUID(text: raw)
        else { throw APIError.badRequest("cursor must be the next value of a previous page.", code: "invalid_cursor") }
        return (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
    }

    static func requireServiceOrAdmin(_ caller: Caller?) throws(UserError) {
        switch caller {
        case .service: return
        case .user(let user) where user.isAdmin: return
        default: throw .adminRequired
        }
    }

    static func requireSelfOrPrivileged(_ caller: Caller?, target: UUID) throws(UserError) {
        switch caller {
        case .service: return
        case .user(let user) where user.isAdmin || user.id == target: return
        default: throw .forbidden("A user may only act on their own account.")
        }
    }
}

/// The answer of login and refresh (RFC 6749 §5.1 names).
struct TokenPair: Codable, Sendable {
    var accessToken: String
    var tokenType: String = "Bearer"
    var expiresIn: Int
    var refreshToken: String
    var refreshExpiresIn: Int

    /// The wire names.
    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case refreshExpiresIn = "refresh_expires_in"
    }
}

extension Optional where Wrapped: Sendable {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
