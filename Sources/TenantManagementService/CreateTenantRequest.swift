import DatabaseLayer
import Hummingbird

/// `POST /api/v1/tenants`, validated.
struct CreateTenantRequest: Sendable, Equatable {
    /// The fields a client may never send on a tenant: the service owns them.
    static let serverOwnedFields: Set<String> = ["_id", "status", "created_at", "updated_at", "provisioning_error", "deletion_error", "name_key"]

    /// Which keys the body may carry. `status` and timestamps are refused (`read_only_field`) rather than ignored,
    /// so a client that believes it can set them learns at once that it cannot.
    static let rules = JSONBodyRules(
        allowed: ["tenant_id", "name", "tier", "region", "settings", "database_config"], serverOwned: Self.serverOwnedFields)
    /// Keys of `database_config`: only `type` may be chosen, the rest is derived by the service.
    static let configRules = JSONBodyRules(
        allowed: ["type"], serverOwned: ["database_name", "connection_string", "postgres_database", "mongodb_databases", "postgresql_schemas"])

    /// The id the client chose, or nil for a generated `tenant-<8 hex>`.
    var tenantID: TenantID?
    /// Display name.
    var name: String
    /// Tier (default `standard`).
    var tier: String
    /// Region (default `default`).
    var region: String
    /// Settings (default `{}`).
    var settings: JSONObject
    /// Always `shared`: the only type this service provisions.
    var databaseType: TenantDatabaseType

    /// Reads and validates the body of `request`.
    init(request: Request, context: ServiceRequestContext) async throws {
        try self.init(body: try await request.decodeJSONObject(context: context, rules: Self.rules))
    }

    /// Validates a body (the key rules are checked here too, so the type is safe to build from any object).
    init(body: JSONObject) throws(APIError) {
        try Self.rules.check(body)
        self.tenantID = try TenantValidation.string(body, "tenant_id").map { raw throws(APIError) in try TenantValidation.tenantID(raw) }
        self.name = try TenantValidation.name(try TenantValidation.requiredString(body, "name"))
        self.tier = try TenantValidation.token(TenantValidation.string(body, "tier") ?? "standard", field: "tier")
        self.region = try TenantValidation.token(TenantValidation.string(body, "region") ?? "default", field: "region")
        self.settings = try TenantValidation.value(body, "settings").map { value throws(APIError) in try TenantValidation.settings(value) } ?? [:]
        self.databaseType = try Self.databaseType(TenantValidation.value(body, "database_config"))
    }

    /// The requested database type: `shared` (the default); `dedicated` is refused, since operators set those up.
    private static func databaseType(_ config: JSONValue?) throws(APIError) -> TenantDatabaseType {
        guard let config else { return .shared }
        guard case .object(let object) = config else { throw APIError.badRequest("database_config must be a JSON object.", code: "invalid_body") }
        try Self.configRules.check(object)
        switch try TenantValidation.string(object, "type") {
        case nil, "shared": return .shared
        case "dedicated":
            throw APIError.badRequest(
                "database_config.type dedicated is not provisioned by this service; dedicated servers are set up by operators.",
                code: "unsupported_database_type")
        default: throw APIError.badRequest("database_config.type must be shared or dedicated.")
        }
    }
}
