public import Hummingbird

/// For route collections that only other services may call (tenant management, the task queue): a verified user
/// token gets 403 `service_caller_required`, so a user can never reach what the service API reserves for services.
public struct ServiceCallersOnlyMiddleware: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        try context.requireServiceCaller()
        return try await next(request, context)
    }
}
