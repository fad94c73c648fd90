public import Hummingbird
import Logging

/// Reads `X-Tenant-ID` (or a user token's `tenant_id`), validates it once at the edge, and stores it in the context
/// as a ``TenantID``; a user token whose tenant differs from the header is a 403.
public struct TenantMiddleware: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        var header: TenantID?
        if let raw = request.headers[.init("X-Tenant-ID")!] {
            guard let tenant = TenantID(raw) else {
                throw APIError(
                    .badRequest, code: "invalid_tenant",
                    detail: "X-Tenant-ID must be 1-40 characters of lowercase letters, digits and '-', starting with a letter or digit.")
            }
            header = tenant
        }
        // A user token is scoped to the tenant it was issued for: the header may repeat it, never change it.
        var resolved = header
        if case .user(let user) = context.caller {
            if let header, header != user.tenant {
                throw APIError(
                    .forbidden, code: "tenant_mismatch",
                    detail: user.tenant == nil
                        ? "This user token is not scoped to a tenant, so it cannot act in X-Tenant-ID's tenant; log in with tenant_id."
                        : "X-Tenant-ID differs from the tenant of the user token.")
            }
            resolved = user.tenant
        }
        guard let tenant = resolved else { return try await next(request, context) }
        var context = context
        context.tenant = tenant
        context.logger[metadataKey: "tenant_id"] = .string(tenant.rawValue)
        context.requestLog["tenant_id"] = .string(tenant.rawValue)
        return try await next(request, context)
    }
}
