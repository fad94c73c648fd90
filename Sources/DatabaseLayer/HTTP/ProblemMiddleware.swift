public import Hummingbird
import Logging

/// Turns every error into an RFC 9457 `application/problem+json` response; unexpected errors are logged in full
/// with the request id, and the client sees only a generic detail.
public struct ProblemMiddleware: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var (problem, retryAfter, isInternal) = Problem.from(error)
            problem.instance = request.uri.path
            problem.requestID = context.requestID
            if isInternal {
                context.logger.error("request failed", metadata: ["error": .string(String(reflecting: error))])
            } else if problem.status >= 500 {
                context.logger.warning("request failed", metadata: ["error": .string(String(reflecting: error))])
            } else {
                context.logger.debug("request rejected", metadata: ["code": .string(problem.code), "detail": .string(problem.detail)])
            }
            return problem.response(retryAfter: retryAfter)
        }
    }
}
