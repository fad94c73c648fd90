import DatabaseLayer
import Hummingbird

/// The eight endpoints of seed 000's table plus `POST /tenants/{id}/provision`. An admin API: `X-API-Key` only;
/// `X-Tenant-ID` plays no part (the tenant is in the path or body).
struct TenantRoutes: Sendable {
    /// The lifecycle operations.
    let manager: TenantManager
    /// `MAX_PAGE_SIZE`.
    let maxPageSize: Int

    /// Registers the routes on `router`.
    func add(to router: some RouterMethods<ServiceRequestContext>) {
        router.get("/api/v1/tenants") { request, _ -> Page<TenantResponse> in
            let query = request.queryDictionary
            return try await self.manager.tenants(
                filter: TenantListFilter(query: query), page: PageRequest(query: query, maxPageSize: self.maxPageSize))
        }
        router.post("/api/v1/tenants") { request, context -> EditedResponse<TenantResponse> in
            let body = try await request.decode(as: JSONObject.self, context: context)
            let tenant = try await self.manager.create(CreateTenantRequest(body: body), logger: context.logger)
            return EditedResponse(status: .created, headers: [.location: "/api/v1/tenants/\(tenant.tenantID)"], response: tenant)
        }
        router.get("/api/v1/tenants/:tenant_id") { _, context -> TenantResponse in
            let id = try Self.tenantID(context)
            guard let tenant = try await self.manager.cachedTenant(id) else { throw TenantManager.notFound(id) }
            return tenant
        }
        router.put("/api/v1/tenants/:tenant_id") { request, context -> TenantResponse in
            let id = try Self.tenantID(context)
            let body = try await request.decode(as: JSONObject.self, context: context)
            return try await self.manager.update(id, with: UpdateTenantRequest(body: body), logger: context.logger)
        }
        router.delete("/api/v1/tenants/:tenant_id") { _, context -> HTTPResponse.Status in
            try await self.manager.delete(try Self.tenantID(context), logger: context.logger)
            return .noContent
        }
        router.post("/api/v1/tenants/:tenant_id/provision") { _, context -> TenantResponse in
            try await self.manager.provisionAgain(try Self.tenantID(context), logger: context.logger)
        }
        router.get("/api/v1/tenants/:tenant_id/databases") { _, context -> TenantDatabasesResponse in
            try await self.manager.databaseReport(try Self.tenantID(context))
        }
        router.get("/api/v1/databases") { request, _ -> Page<TenantDatabaseResponse> in
            let query = request.queryDictionary
            return try await self.manager.databases(
                filter: TenantDatabaseListFilter(query: query), page: PageRequest(query: query, maxPageSize: self.maxPageSize))
        }
        router.post("/api/v1/databases") { request, context -> EditedResponse<TenantDatabaseResponse> in
            let body = try await request.decode(as: JSONObject.self, context: context)
            let database = try await self.manager.createDatabase(CreateTenantDatabaseRequest(body: body), logger: context.logger)
            return EditedResponse(status: .created, headers: [.location: "/api/v1/tenants/\(database.tenantID)/databases"], response: database)
        }
    }

    /// The validated `{tenant_id}` path parameter (`400 invalid_tenant` otherwise, before anything is read).
    static func tenantID(_ context: ServiceRequestContext) throws -> TenantID {
        try TenantValidation.tenantID(try context.parameters.require("tenant_id"))
    }
}
