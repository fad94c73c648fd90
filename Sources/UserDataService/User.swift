import DatabaseLayer
import Foundation

/// A row of `user_data.users` as clients see it: everything but `hashed_password`, which never leaves the
/// repository, so no encoder, cache entry or log line can carry it.
struct User: Codable, Sendable, Equatable {
    var id: UUID
    var email: String
    var username: String
    var authProvider: String
    var isActive: Bool
    var isAdmin: Bool
    var profile: JSONObject
    var createdAt: Date
    var updatedAt: Date
    var lastLoginAt: Date?

    /// The wire names (seed 004's columns).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, email, username, profile
        case authProvider = "auth_provider"
        case isActive = "is_active"
        case isAdmin = "is_admin"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastLoginAt = "last_login_at"
    }

    /// Encodes `last_login_at` as an explicit null, so every user has the same keys.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id.lowercasedText, forKey: .id)
        try container.encode(self.email, forKey: .email)
        try container.encode(self.username, forKey: .username)
        try container.encode(self.authProvider, forKey: .authProvider)
        try container.encode(self.isActive, forKey: .isActive)
        try container.encode(self.isAdmin, forKey: .isAdmin)
        try container.encode(self.profile, forKey: .profile)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.updatedAt, forKey: .updatedAt)
        try container.encode(self.lastLoginAt, forKey: .lastLoginAt)
    }

    /// Keys a client may never send: the server sets them (`hashed_password` is derived from `password`).
    static let serverOwnedKeys: Set<String> = ["id", "hashed_password", "created_at", "updated_at", "last_login_at"]

    /// The columns ``init(row:)`` reads, in a SELECT list.
    static let columns = "id, email, username, auth_provider, is_active, is_admin, profile, created_at, updated_at, last_login_at"

    /// Reads the ``columns`` of one row.
    init(row: PostgresRow) throws(DatabaseError) {
        self.id = try row.decode("id")
        self.email = try row.decode("email")
        self.username = try row.decode("username")
        self.authProvider = try row.decode("auth_provider")
        self.isActive = try row.decode("is_active")
        self.isAdmin = try row.decode("is_admin")
        self.profile = try row.decode("profile", as: PostgresJSON.self).value.objectValue ?? [:]
        self.createdAt = try row.decode("created_at")
        self.updatedAt = try row.decode("updated_at")
        self.lastLoginAt = try row.decodeIfPresent("last_login_at")
    }
}
