import DatabaseLayer

/// `POST /api/v1/users`: the client-owned fields of a new user.
struct CreateUserRequest: Decodable, Sendable {
    var email: String
    var username: String
    var password: String?
    var authProvider: String?
    var profile: JSONObject?
    var isActive: Bool?
    var isAdmin: Bool?
    /// The role in the request's tenant (`tenant_users.role`).
    var role: String?

    /// The wire names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case email, username, password, profile, role
        case authProvider = "auth_provider"
        case isActive = "is_active"
        case isAdmin = "is_admin"
    }

    /// These keys only; the server-owned ones are refused by name.
    static let rules = JSONBodyRules(allowed: Set(CodingKeys.allCases.map(\.rawValue)), serverOwned: User.serverOwnedKeys)

    /// The checked values; a local account needs a password, an external one may not have one.
    func validated(tenant: TenantID?) throws(UserError) -> NewUser {
        let provider = try UserValidation.word(self.authProvider ?? "local", field: "auth_provider")
        let password: String?
        switch (provider, self.password) {
        case ("local", nil): throw .invalidPassword("password is required for auth_provider local.")
        case ("local", let value?): password = try UserValidation.password(value)
        case (_, nil): password = nil
        case (_, .some): throw .invalidInput("password is only for auth_provider local; other providers authenticate elsewhere.")
        }
        if self.role != nil, tenant == nil { throw .invalidInput("role needs a tenant (X-Tenant-ID).") }
        return NewUser(
            email: try UserValidation.email(self.email),
            username: try UserValidation.username(self.username),
            password: password,
            authProvider: provider,
            profile: try UserValidation.profile(self.profile ?? [:]),
            isActive: self.isActive ?? true,
            isAdmin: self.isAdmin ?? false,
            tenant: try tenant.map { tenant throws(UserError) in (tenant, try UserValidation.word(self.role ?? "member", field: "role")) }
        )
    }
}

/// A validated new user; the password is still plain here and hashed just before the insert.
struct NewUser: Sendable {
    var email: String
    var username: String
    var password: String?
    var authProvider: String
    var profile: JSONObject
    var isActive: Bool
    var isAdmin: Bool
    /// The tenant to assign the user to, with the role.
    var tenant: (id: TenantID, role: String)?
}
