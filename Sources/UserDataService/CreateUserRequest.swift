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

    /// The wire names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case email, username, password, profile
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
        return NewUser(
            email: try UserValidation.email(self.email),
            username: try UserValidation.username(self.username),
            password: password,
            authProvider: provider,
            profile: try UserValidation.profile(self.profile ?? [:]),
            isActive: self.isActive ?? true,
            isAdmin: self.isAdmin ?? false,
            // Every assignment is a `member` for now: setting tenant roles is a later issue's endpoint, not a field
            // of POST /users (which would only be valid together with a header, which no schema can say).
            tenant: tenant.map { ($0, "member") }
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
