import DatabaseLayer
import Hummingbird

/// `POST /api/v1/databases`, validated.
struct CreateTenantDatabaseRequest: Sendable, Equatable {
    /// `primary` and the timestamp are the service's.
    static let rules = JSONBodyRules(allowed: ["tenant_id", "type", "name"], serverOwned: ["_id", "created_at", "primary"])

    /// The owning tenant.
    var tenantID: TenantID
    /// MongoDB database or PostgreSQL schema.
    var type: TenantStoreKind
    /// The full name: `tenant_<id>_<part>`.
    var name: String

    /// Reads and validates the body of `request`.
    init(request: Request, context: ServiceRequestContext) async throws {
        try self.init(body: try await request.decodeJSONObject(context: context, rules: Self.rules))
    }

    /// Validates a body. `name` is the part after `tenant_<id>_` (`analytics`), never the full name.
    init(body: JSONObject) throws(APIError) {
        try Self.rules.check(body)
        self.tenantID = try TenantValidation.tenantID(try TenantValidation.requiredString(body, "tenant_id"))
        guard let type = TenantStoreKind(rawValue: try TenantValidation.requiredString(body, "type")) else {
            throw APIError.badRequest("type must be mongodb or postgresql.")
        }
        self.type = type
        self.name = try Self.fullName(try TenantValidation.requiredString(body, "name"), tenant: self.tenantID, type: type)
    }

    /// `tenant_<id>_<part>` after validating the part, and the whole name against the store's identifier rules.
    ///
    /// Only the part is accepted: one spelling per name, which the OpenAPI document can state exactly (a prefix that
    /// must repeat the body's `tenant_id` is not expressible in a schema). The prefixed form used to be accepted too;
    /// it now fails like any other name with an `_`, and the message says what to send instead.
    static func fullName(_ part: String, tenant: TenantID, type: TenantStoreKind) throws(APIError) -> String {
        let prefix = String(tenant.mongoDatabaseName.dropLast(2))  // "tenant_<id>_"
        guard TenantValidation.databasePart(part) else {
            throw APIError.badRequest(
                "name must be 1-20 lowercase letters and digits starting with a letter: the part after \(prefix) "
                    + "(the database is named \(prefix)<name>).",
                code: "invalid_database_name")
        }
        let full = prefix + part
        let valid: Bool
        switch type {
        case .mongodb: valid = MongoName.isValidDatabaseName(full)
        case .postgresql: valid = (try? SQLIdentifier(full)) != nil
        }
        guard valid else {
            throw APIError.badRequest("\(full) is longer than the 63 bytes a database or schema name may have.", code: "invalid_database_name")
        }
        return full
    }
}
