public import Hummingbird

/// Rejects bodies over the limit with 413 before a handler sees them: at once from `Content-Length`, otherwise
/// while reading a chunked body.
public struct BodyLimitMiddleware: RouterMiddleware {
    let maxBytes: Int

    /// Creates the middleware.
    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > self.maxBytes {
            throw HTTPError(.contentTooLarge)
        }
        guard request.method == .post || request.method == .put || request.method == .patch else {
            return try await next(request, context)
        }
        var request = request
        _ = try await request.collectBody(upTo: self.maxBytes)
        return try await next(request, context)
    }
}
