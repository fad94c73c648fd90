import DatabaseLayer

/// `PUT /api/v1/users/{user_id}`: the fields to change; an absent field is left alone and `null` is refused.
struct UpdateUserRequest: Decodable, Sendable {
    var email: String?
    var username: String?
    var password: String?
    /// The caller's present password, which a plain user needs to change their own.
    var currentPassword: String?
    var profile: JSONObject?
    var isActive: Bool?
    var isAdmin: Bool?

    /// The wire names.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case email, username, password, profile
        case currentPassword = "current_password"
        case isActive = "is_active"
        case isAdmin = "is_admin"
    }

    /// These keys only; `auth_provider` is fixed at creation, the server-owned keys are refused by name.
    static let rules = JSONBodyRules(
        allowed: Set(CodingKeys.allCases.map(\.rawValue)), serverOwned: User.serverOwnedKeys.union(["auth_provider"]))

    /// Decodes the members, refusing explicit nulls: `"email": null` is a mistake, not "leave it".
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        for key in CodingKeys.allCases where container.contains(key) {
            if try container.decodeNil(forKey: key) {
                throw DecodingError.valueNotFound(
                    Any.self, .init(codingPath: [key], debugDescription: "\(key.rawValue) may not be null; leave it out to keep it."))
            }
        }
        self.email = try container.decodeIfPresent(String.self, forKey: .email)
        self.username = try container.decodeIfPresent(String.self, forKey: .username)
        self.password = try container.decodeIfPresent(String.self, forKey: .password)
        self.currentPassword = try container.decodeIfPresent(String.self, forKey: .currentPassword)
        self.profile = try container.decodeIfPresent(JSONObject.self, forKey: .profile)
        self.isActive = try container.decodeIfPresent(Bool.self, forKey: .isActive)
        self.isAdmin = try container.decodeIfPresent(Bool.self, forKey: .isAdmin)
    }

    /// The checked changes; at least one field must change something.
    func validated() throws(UserError) -> UserChanges {
        let changes = UserChanges(
            email: try self.email.map { value throws(UserError) in try UserValidation.email(value) },
            username: try self.username.map { value throws(UserError) in try UserValidation.username(value) },
            password: try self.password.map { value throws(UserError) in try UserValidation.password(value) },
            profile: try self.profile.map { value throws(UserError) in try UserValidation.profile(value) },
            isActive: self.isActive,
            isAdmin: self.isAdmin
        )
        guard !changes.isEmpty else {
            throw .invalidBody("Send at least one of email, username, password, profile, is_active, is_admin.")
        }
        return changes
    }
}

/// Validated changes to a user; nil means unchanged.
struct UserChanges: Sendable {
    var email: String?
    var username: String?
    /// The new plain password, hashed before the update.
    var password: String?
    var profile: JSONObject?
    var isActive: Bool?
    var isAdmin: Bool?

    /// Nothing to change.
    var isEmpty: Bool {
        self.email == nil && self.username == nil && self.password == nil && self.profile == nil && self.isActive == nil && self.isAdmin == nil
    }

    /// Whether it touches what only a service or an admin may change.
    var changesPrivileges: Bool { self.isActive != nil || self.isAdmin != nil }
}
