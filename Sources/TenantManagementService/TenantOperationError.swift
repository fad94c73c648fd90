import Foundation

/// A failed step of provisioning or deletion, as recorded on the tenant and returned to clients (no server text).
struct TenantOperationError: Codable, Sendable, Equatable {
    /// The step that failed (`register_databases`, `mongodb_database`, `postgresql_schemas`, `drop_mongodb`, …).
    var step: String
    /// The stable error code of the cause (`unavailable`, `timeout`, `conflict`, `internal_error`, …).
    var code: String
    /// Client-safe message of the cause.
    var message: String
    /// When it happened.
    var occurredAt: Date

    enum CodingKeys: String, CodingKey {
        case step, code, message
        case occurredAt = "occurred_at"
    }
}
