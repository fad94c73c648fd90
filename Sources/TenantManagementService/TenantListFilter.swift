import DatabaseLayer

/// Filters of `GET /api/v1/tenants`.
struct TenantListFilter: Sendable, Equatable {
    /// Only this status.
    var status: TenantStatus?
    /// Only this tier.
    var tier: String?
    /// Only this region.
    var region: String?

    /// No filter.
    init(status: TenantStatus? = nil, tier: String? = nil, region: String? = nil) {
        self.status = status
        self.tier = tier
        self.region = region
    }

    /// Reads `status`, `tier` and `region` from the query; `400 invalid_query` for a value that cannot match.
    init(query: [String: String]) throws(APIError) {
        if let raw = query["status"] {
            guard let status = TenantStatus(rawValue: raw) else {
                throw APIError.badRequest(
                    "status must be one of \(TenantStatus.allCases.map(\.rawValue).joined(separator: ", ")).", code: "invalid_query")
            }
            self.status = status
        }
        do {
            self.tier = try query["tier"].map { raw throws(APIError) in try TenantValidation.token(raw, field: "tier") }
            self.region = try query["region"].map { raw throws(APIError) in try TenantValidation.token(raw, field: "region") }
        } catch {
            throw APIError.badRequest(error.detail, code: "invalid_query")
        }
    }
}
