public import Hummingbird

/// Service-to-service authentication: `X-API-Key` must equal the configured key (compared in constant time).
public struct APIKeyMiddleware: RouterMiddleware {
    private let key: [UInt8]

    /// Creates the middleware for `apiKey`.
    public init(apiKey: String) { self.key = Array(apiKey.utf8) }

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        if PublicPaths.all.contains(request.uri.path) { return try await next(request, context) }
        guard let presented = request.headers[.init("X-API-Key")!] else {
            throw APIError.unauthorized("Send the service API key in the X-API-Key header.")
        }
        guard Self.constantTimeEquals(Array(presented.utf8), self.key) else {
            throw APIError.unauthorized("The API key is not valid.")
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so timing does not reveal how much of the key matched.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        for index in 0..<max(lhs.count, rhs.count) {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ (index < rhs.count ? rhs[index] : 0)
        }
        return difference == 0
    }
}
