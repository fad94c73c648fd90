import DatabaseLayer
import Hummingbird

/// `PUT /api/v1/tenants/{id}`, validated: any subset of name, tier, region, settings and status.
struct UpdateTenantRequest: Sendable, Equatable {
    /// Id, database configuration and timestamps belong to the service (`read_only_field`); `status` may be sent.
    static let rules = JSONBodyRules(
        allowed: ["name", "tier", "region", "settings", "status"],
        serverOwned: CreateTenantRequest.serverOwnedFields.subtracting(["status"]).union(["tenant_id", "database_config"]))

    /// New display name.
    var name: String?
    /// New tier.
    var tier: String?
    /// New region.
    var region: String?
    /// Replacement settings (the whole object: PUT replaces, it does not merge).
    var settings: JSONObject?
    /// `active` or `suspended`.
    var status: TenantStatus?

    /// Reads and validates the body of `request`.
    init(request: Request, context: ServiceRequestContext) async throws {
        try self.init(body: try await request.decodeJSONObject(context: context, rules: Self.rules))
    }

    /// Validates a body.
    init(body: JSONObject) throws(APIError) {
        try Self.rules.check(body)
        self.name = try TenantValidation.string(body, "name").map { raw throws(APIError) in try TenantValidation.name(raw) }
        self.tier = try TenantValidation.string(body, "tier").map { raw throws(APIError) in try TenantValidation.token(raw, field: "tier") }
        self.region = try TenantValidation.string(body, "region").map { raw throws(APIError) in try TenantValidation.token(raw, field: "region") }
        self.settings = try TenantValidation.value(body, "settings").map { value throws(APIError) in try TenantValidation.settings(value) }
        if let status = try TenantValidation.string(body, "status") {
            guard let parsed = TenantStatus(rawValue: status), parsed == .active || parsed == .suspended else {
                throw APIError.badRequest("status may only be set to active or suspended; provisioning and deletion set the others.")
            }
            self.status = parsed
        }
        guard self.name != nil || self.tier != nil || self.region != nil || self.settings != nil || self.status != nil else {
            throw APIError.badRequest("Send at least one of name, tier, region, settings, status.", code: "invalid_body")
        }
    }
}
