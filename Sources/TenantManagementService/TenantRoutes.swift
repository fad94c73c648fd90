import DatabaseLayer
import Hummingbird

/// The eight endpoints of seed 000's table plus `POST /tenants/{id}/provision`. An admin API: `X-API-Key` only;
/// `X-Tenant-ID` plays no part (the tenant is in the path or body).
///
/// Each handler reads a typed, validated request and returns a `ResponseEncodable` (or a status); errors are
/// thrown and rendered by the shared problem middleware.
struct TenantRoutes: Sendable {
    /// The lifecycle operations.
    let manager: TenantManager
    /// `MAX_PAGE_SIZE`.
    let maxPageSize: Int

    /// The routes under `/api/v1/tenants`.
    var tenants: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get(use: self.list)
        routes.post(use: self.create)
        routes.get(":tenant_id", use: self.show)
        routes.put(":tenant_id", use: self.update)
        routes.delete(":tenant_id", use: self.delete)
        routes.post(":tenant_id/provision", use: self.provision)
        routes.get(":tenant_id/databases", use: self.databaseReport)
        return routes
    }

    /// The routes under `/api/v1/databases`.
    var databases: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.get(use: self.listDatabases)
        routes.post(use: self.createDatabase)
        return routes
    }

    /// `GET /api/v1/tenants`: one keyset page, filtered.
    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> Page<TenantResponse> {
        let query = request.queryDictionary
        return try await self.manager.tenants(filter: TenantListFilter(query: query), page: PageRequest(query: query, maxPageSize: self.maxPageSize))
    }

    /// `POST /api/v1/tenants`: 201 with `Location`.
    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> EditedResponse<TenantResponse> {
        let tenant = try await self.manager.create(try await CreateTenantRequest(request: request, context: context), logger: context.logger)
        return EditedResponse(status: .created, headers: [.location: Self.tenantPath(tenant.tenantID)], response: tenant)
    }

    /// `GET /api/v1/tenants/{id}`, through the cache.
    @Sendable func show(_ request: Request, context: ServiceRequestContext) async throws -> TenantResponse {
        try await self.manager.cachedTenant(try Self.tenantID(context))
    }

    /// `PUT /api/v1/tenants/{id}`.
    @Sendable func update(_ request: Request, context: ServiceRequestContext) async throws -> TenantResponse {
        let id = try Self.tenantID(context)
        return try await self.manager.update(id, with: try await UpdateTenantRequest(request: request, context: context), logger: context.logger)
    }

    /// `DELETE /api/v1/tenants/{id}`: 204.
    @Sendable func delete(_ request: Request, context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        try await self.manager.delete(try Self.tenantID(context), logger: context.logger)
        return .noContent
    }

    /// `POST /api/v1/tenants/{id}/provision`.
    @Sendable func provision(_ request: Request, context: ServiceRequestContext) async throws -> TenantResponse {
        try await self.manager.provisionAgain(try Self.tenantID(context), logger: context.logger)
    }

    /// `GET /api/v1/tenants/{id}/databases`.
    @Sendable func databaseReport(_ request: Request, context: ServiceRequestContext) async throws -> TenantDatabasesResponse {
        try await self.manager.databaseReport(try Self.tenantID(context))
    }

    /// `GET /api/v1/databases`: one keyset page, filtered.
    @Sendable func listDatabases(_ request: Request, context: ServiceRequestContext) async throws -> Page<TenantDatabaseRecord> {
        let query = request.queryDictionary
        return try await self.manager.databases(
            filter: TenantDatabaseListFilter(query: query), page: PageRequest(query: query, maxPageSize: self.maxPageSize))
    }

    /// `POST /api/v1/databases`: 201 with `Location` (the owning tenant's database report).
    @Sendable func createDatabase(_ request: Request, context: ServiceRequestContext) async throws -> EditedResponse<TenantDatabaseRecord> {
        let database = try await self.manager.createDatabase(
            try await CreateTenantDatabaseRequest(request: request, context: context), logger: context.logger)
        return EditedResponse(status: .created, headers: [.location: Self.tenantPath(database.tenantID) + "/databases"], response: database)
    }

    /// The validated `{tenant_id}` path parameter (`400 invalid_tenant` otherwise, before anything is read).
    static func tenantID(_ context: ServiceRequestContext) throws -> TenantID {
        try TenantValidation.tenantID(try context.parameters.require("tenant_id"))
    }

    /// A tenant's resource path: built here, where the routes are, rather than in the manager.
    static func tenantPath(_ id: String) -> String { "/api/v1/tenants/\(id)" }
}
