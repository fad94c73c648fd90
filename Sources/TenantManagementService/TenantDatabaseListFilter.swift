import DatabaseLayer

/// Filters of `GET /api/v1/databases`.
struct TenantDatabaseListFilter: Sendable, Equatable {
    /// Only this tenant's.
    var tenantID: TenantID?
    /// Only this kind.
    var type: TenantStoreKind?

    /// No filter, or the given ones.
    init(tenantID: TenantID? = nil, type: TenantStoreKind? = nil) {
        self.tenantID = tenantID
        self.type = type
    }

    /// Reads `tenant_id` and `type` from the query.
    init(query: [String: String]) throws(APIError) {
        if let raw = query["tenant_id"] {
            guard let id = TenantID(raw) else { throw APIError.badRequest("tenant_id is not a valid tenant id.", code: "invalid_query") }
            self.tenantID = id
        }
        if let raw = query["type"] {
            guard let type = TenantStoreKind(rawValue: raw) else {
                throw APIError.badRequest("type must be mongodb or postgresql.", code: "invalid_query")
            }
            self.type = type
        }
    }
}
