public import Hummingbird
import Logging

/// Reads `X-Tenant-ID`, validates it once at the edge, and stores it in the context as a ``TenantID``.
public struct TenantMiddleware: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let raw = request.headers[.init("X-Tenant-ID")!] else { return try await next(request, context) }
        guard let tenant = TenantID(raw) else {
            throw APIError(
                .badRequest, code: "invalid_tenant",
                detail: "X-Tenant-ID must be 1-40 characters of lowercase letters, digits and '-', starting with a letter or digit.")
        }
        var context = context
        context.tenant = tenant
        context.logger[metadataKey: "tenant_id"] = .string(tenant.rawValue)
        context.requestLog["tenant_id"] = .string(tenant.rawValue)
        return try await next(request, context)
    }
}
