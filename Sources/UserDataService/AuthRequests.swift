import DatabaseLayer

/// `POST /api/v1/auth/login`: one of `email` and `username`, the password and an optional tenant.
struct LoginRequest: Decodable, Sendable {
    var email: String?
    var username: String?
    var password: String
    var tenantID: String?

    /// The wire names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case email, username, password
        case tenantID = "tenant_id"
    }

    /// These keys only.
    static let rules = JSONBodyRules(allowed: Set(CodingKeys.allCases.map(\.rawValue)))

    /// The login as a lookup key; shapes that no user could have are refused as 400, not as a failed login,
    /// so they do not count towards the lockout.
    func validated(contextTenant: TenantID?) throws(UserError) -> LoginAttempt {
        let identifier: LoginIdentifier
        switch (self.email, self.username) {
        case (let email?, nil): identifier = .email(try UserValidation.email(email))
        case (nil, let username?): identifier = .username(try UserValidation.username(username))
        default: throw .invalidInput("Send exactly one of email and username.")
        }
        guard !self.password.isEmpty, self.password.utf8.count <= 1024 else {
            throw .invalidInput("password must be 1 to 1024 bytes.")
        }
        var tenant = contextTenant
        if let raw = self.tenantID {
            guard let parsed = TenantID(raw) else { throw .invalidInput("tenant_id is not a valid tenant id.") }
            if let contextTenant, contextTenant != parsed {
                throw .invalidInput("tenant_id differs from X-Tenant-ID.")
            }
            tenant = parsed
        }
        return LoginAttempt(identifier: identifier, password: self.password, tenant: tenant)
    }
}

/// What a login looks the user up by.
enum LoginIdentifier: Sendable, Equatable {
    case email(String)
    case username(String)

    /// Case-folded, as the unique indexes compare; the lockout counts per this key.
    var normalized: String {
        switch self {
        case .email(let value): "email:" + value.lowercased()
        case .username(let value): "username:" + value.lowercased()
        }
    }
}

/// A validated login.
struct LoginAttempt: Sendable {
    var identifier: LoginIdentifier
    var password: String
    var tenant: TenantID?
}

/// `POST /api/v1/auth/refresh`.
struct RefreshRequest: Decodable, Sendable {
    var refreshToken: String

    /// The wire names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case refreshToken = "refresh_token"
    }

    /// These keys only.
    static let rules = JSONBodyRules(allowed: Set(CodingKeys.allCases.map(\.rawValue)))
}

/// `POST /api/v1/auth/logout`: the refresh token whose login ends; the bearer token itself is read from the header.
struct LogoutRequest: Decodable, Sendable {
    var refreshToken: String?

    /// The wire names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case refreshToken = "refresh_token"
    }

    /// These keys only.
    static let rules = JSONBodyRules(allowed: Set(CodingKeys.allCases.map(\.rawValue)))
}

/// `PUT /api/v1/users/{user_id}/preferences`: the whole new set.
struct PreferencesRequest: Decodable, Sendable {
    var preferences: JSONObject

    /// The wire names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case preferences
    }

    /// These keys only; the values are free-form, so the depth rule still applies to them.
    static let rules = JSONBodyRules(allowed: Set(CodingKeys.allCases.map(\.rawValue)), serverOwned: ["user_id", "updated_at"])
}
