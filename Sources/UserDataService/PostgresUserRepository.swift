import DatabaseLayer
import Foundation

/// Users, tenant assignments and preferences in PostgreSQL `system_users` (seed 004), through the pool.
///
/// Every statement binds its values (`$1`); the tenant reaches `tenant_users` only through a tenant-scoped
/// transaction (`app.current_tenant_id`), so row-level security, not the WHERE clause alone, keeps tenants apart.
/// Each method is one transaction, which is also what pgbouncer's transaction pooling needs.
struct PostgresUserRepository: Sendable {
    let pool: PostgresPool

    /// Inserts the user (with `hashedPassword`) and, with a tenant, its assignment; 409 cases for duplicates.
    func create(_ user: NewUser, hashedPassword: String?, id: UUID = UUID()) async throws -> User {
        let insert = """
            INSERT INTO user_data.users (id, email, username, hashed_password, auth_provider, is_active, is_admin, profile)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT DO NOTHING RETURNING \(User.columns)
            """
        let parameters: [(any PostgresBindable)?] = [
            id, user.email, user.username, hashedPassword, user.authProvider, user.isActive, user.isAdmin, PostgresJSON(.object(user.profile)),
        ]
        let body: @Sendable (PostgresConnection) throws -> User = { connection in
            // ON CONFLICT DO NOTHING rather than catching 23505: the transaction stays usable to find out which key clashed.
            guard let row = try connection.query(insert, parameters).first else {
                throw try Self.conflict(connection, email: user.email, username: user.username, excluding: nil)
            }
            if let tenant = user.tenant {
                try connection.query(
                    "INSERT INTO user_data.tenant_users (tenant_id, user_id, role) VALUES ($1, $2, $3)", [tenant.id.rawValue, id, tenant.role])
            }
            return try User(row: row)
        }
        if let tenant = user.tenant?.id {
            return try await self.pool.withTransaction(tenant: tenant, operation: "create_user", body)
        }
        return try await self.pool.withTransaction(operation: "create_user", body)
    }

    /// The user, whatever their tenants.
    func get(_ id: UUID) async throws -> User? {
        try await self.pool.query("SELECT \(User.columns) FROM user_data.users WHERE id = $1", [id], operation: "get_user").first.map(User.init(row:))
    }

    /// The user's role in `tenant`, or nil when they are not a member (read under the tenant's row-level security).
    func membership(_ id: UUID, tenant: TenantID) async throws -> String? {
        try await self.pool.withTransaction(tenant: tenant, operation: "get_membership") { connection in
            try Self.role(connection, user: id, tenant: tenant)
        }
    }

    /// One page of users ordered by (`created_at`, `id`), `limit + 1` rows so the caller knows whether more follow;
    /// with a tenant, only its members.
    func list(tenant: TenantID?, after: (createdAt: Date, id: UUID)?, limit: Int) async throws -> [User] {
        let columns = User.columns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        var conditions: [String] = []
        var parameters: [(any PostgresBindable)?] = []
        if let tenant {
            parameters.append(tenant.rawValue)
            conditions.append("t.tenant_id = $\(parameters.count)")
        }
        if let after {
            parameters.append(after.createdAt)
            parameters.append(after.id)
            conditions.append("(u.created_at, u.id) > ($\(parameters.count - 1)::timestamptz, $\(parameters.count)::uuid)")
        }
        parameters.append(limit + 1)
        let join = tenant == nil ? "" : " JOIN user_data.tenant_users t ON t.user_id = u.id"
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(columns) FROM user_data.users u\(join)\(filter) ORDER BY u.created_at, u.id LIMIT $\(parameters.count)"
        let bound = parameters
        let query: @Sendable (PostgresConnection) throws -> [User] = { connection in
            try connection.query(sql, bound).map(User.init(row:))
        }
        if let tenant { return try await self.pool.withTransaction(tenant: tenant, operation: "list_users", query) }
        return try await self.pool.withConnection(operation: "list_users", query)
    }

    /// The stored hash and flags for a login by email or username (case-insensitive).
    func credentials(for identifier: LoginIdentifier) async throws -> StoredCredentials? {
        let (column, value): (String, String) =
            switch identifier {
            case .email(let email): ("email", email)
            case .username(let username): ("username", username)
            }
        let sql = "SELECT id, hashed_password, is_active, is_admin FROM user_data.users WHERE lower(\(column)) = lower($1)"
        guard let row = try await self.pool.query(sql, [value], operation: "get_credentials").first else { return nil }
        return StoredCredentials(
            id: try row.decode("id"), hashedPassword: try row.decodeIfPresent("hashed_password"), isActive: try row.decode("is_active"),
            isAdmin: try row.decode("is_admin"))
    }

    /// The stored bcrypt hash of one user (for a self-service password change).
    func hashedPassword(_ id: UUID) async throws -> String? {
        try await self.pool.query("SELECT hashed_password FROM user_data.users WHERE id = $1", [id], operation: "get_credentials")
            .first?.decodeIfPresent("hashed_password")
    }

    /// Applies `changes` (the password already hashed) in one transaction; a new password also revokes every refresh
    /// token of the user. With a tenant the user must be its member. Nil when there is no such user.
    func update(_ id: UUID, changes: UserChanges, hashedPassword: String?, tenant: TenantID?) async throws -> User? {
        let sql = """
            UPDATE user_data.users SET email = COALESCE($2, email), username = COALESCE($3, username),
                hashed_password = COALESCE($4, hashed_password), profile = COALESCE($5::jsonb, profile),
                is_active = COALESCE($6, is_active), is_admin = COALESCE($7, is_admin), updated_at = now()
            WHERE id = $1 RETURNING \(User.columns)
            """
        let parameters: [(any PostgresBindable)?] = [
            id, changes.email, changes.username, hashedPassword, changes.profile.map { PostgresJSON(.object($0)) }, changes.isActive,
            changes.isAdmin,
        ]
        let body: @Sendable (PostgresConnection) throws -> User? = { connection in
            if let tenant, try Self.role(connection, user: id, tenant: tenant) == nil { return nil }
            if changes.email != nil || changes.username != nil {
                if let clash = try Self.clash(connection, email: changes.email, username: changes.username, excluding: id) { throw clash }
            }
            guard let row = try connection.query(sql, parameters).first else { return nil }
            if hashedPassword != nil {
                try connection.query(
                    "UPDATE user_data.refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", [id])
            }
            return try User(row: row)
        }
        do {
            if let tenant { return try await self.pool.withTransaction(tenant: tenant, operation: "update_user", body) }
            return try await self.pool.withTransaction(operation: "update_user", body)
        } catch let error as DatabaseError where error.sqlState == "23505" {
            // A concurrent writer took the email or username between the check and the UPDATE.
            throw changes.email != nil ? UserError.emailTaken : UserError.usernameTaken
        }
    }

    /// Deletes the user; the foreign keys cascade to assignments, preferences and refresh tokens in the same
    /// statement, so it is all or nothing. With a tenant the user must be its member. False when there is none.
    func delete(_ id: UUID, tenant: TenantID?) async throws -> Bool {
        let body: @Sendable (PostgresConnection) throws -> Bool = { connection in
            if let tenant, try Self.role(connection, user: id, tenant: tenant) == nil { return false }
            return try connection.query("DELETE FROM user_data.users WHERE id = $1", [id]).affectedRows == 1
        }
        if let tenant { return try await self.pool.withTransaction(tenant: tenant, operation: "delete_user", body) }
        return try await self.pool.withTransaction(operation: "delete_user", body)
    }

    /// The user's preferences as one object (keys in order), or nil when there is no such user (in the tenant).
    func preferences(_ id: UUID, tenant: TenantID?) async throws -> JSONObject? {
        let body: @Sendable (PostgresConnection) throws -> JSONObject? = { connection in
            guard try Self.exists(connection, user: id, tenant: tenant) else { return nil }
            let rows = try connection.query(
                "SELECT key, value FROM user_preferences.preferences WHERE user_id = $1 ORDER BY key", [id])
            return JSONObject(
                try rows.map { row throws(DatabaseError) in (try row.decode("key"), try row.decode("value", as: PostgresJSON.self).value) })
        }
        if let tenant { return try await self.pool.withTransaction(tenant: tenant, operation: "get_preferences", body) }
        return try await self.pool.withTransaction(operation: "get_preferences", body)
    }

    /// Replaces the whole preference set in one transaction; nil when there is no such user (in the tenant).
    func replacePreferences(_ id: UUID, with preferences: JSONObject, tenant: TenantID?) async throws -> JSONObject? {
        let body: @Sendable (PostgresConnection) throws -> JSONObject? = { connection in
            // FOR UPDATE: two racing PUTs serialise instead of interleaving their DELETE and INSERT.
            guard try Self.exists(connection, user: id, tenant: tenant, lock: true) else { return nil }
            try connection.query("DELETE FROM user_preferences.preferences WHERE user_id = $1", [id])
            try connection.query(
                "INSERT INTO user_preferences.preferences (user_id, key, value) SELECT $1, key, value FROM jsonb_each($2::jsonb)",
                [id, PostgresJSON(.object(preferences))])
            return preferences
        }
        if let tenant { return try await self.pool.withTransaction(tenant: tenant, operation: "put_preferences", body) }
        return try await self.pool.withTransaction(operation: "put_preferences", body)
    }

    // MARK: Helpers inside a transaction

    static func role(_ connection: PostgresConnection, user: UUID, tenant: TenantID) throws -> String? {
        try connection.query("SELECT role FROM user_data.tenant_users WHERE tenant_id = $1 AND user_id = $2", [tenant.rawValue, user])
            .first?.decode("role")
    }

    private static func exists(_ connection: PostgresConnection, user: UUID, tenant: TenantID?, lock: Bool = false) throws -> Bool {
        if let tenant { guard try Self.role(connection, user: user, tenant: tenant) != nil else { return false } }
        return try !connection.query("SELECT 1 FROM user_data.users WHERE id = $1\(lock ? " FOR UPDATE" : "")", [user]).rows.isEmpty
    }

    /// Which of `email` and `username` another user already has, as the 409 to throw.
    private static func clash(_ connection: PostgresConnection, email: String?, username: String?, excluding: UUID?) throws -> UserError? {
        let rows = try connection.query(
            """
            SELECT lower(email) = lower($1) AS email_taken, lower(username) = lower($2) AS username_taken FROM user_data.users
            WHERE (lower(email) = lower($1) OR lower(username) = lower($2)) AND ($3::uuid IS NULL OR id <> $3::uuid)
            """, [email, username, excluding])
        if try rows.contains(where: { row throws(DatabaseError) in try row.decodeIfPresent("email_taken", as: Bool.self) == true }) {
            return .emailTaken
        }
        return rows.rows.isEmpty ? nil : .usernameTaken
    }

    private static func conflict(_ connection: PostgresConnection, email: String, username: String, excluding: UUID?) throws -> UserError {
        // Nothing clashing now means the id collided, which a random UUID does not: report the username then.
        try Self.clash(connection, email: email, username: username, excluding: excluding) ?? .usernameTaken
    }
}

/// What a login needs from `users`.
struct StoredCredentials: Sendable {
    var id: UUID
    var hashedPassword: String?
    var isActive: Bool
    var isAdmin: Bool
}
