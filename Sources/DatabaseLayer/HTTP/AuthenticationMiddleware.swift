import Foundation
public import Hummingbird
import Logging

/// Every endpoint but health and metrics needs a caller: a service with `X-API-Key` (compared in constant time) or
/// a user with `Authorization: Bearer <access token>`. The caller is recorded in the context.
public struct AuthenticationMiddleware: RouterMiddleware {
    private let key: [UInt8]
    private let bearer: BearerTokenVerifier?

    /// Creates the middleware; without a verifier (no `JWT_PUBLIC_KEY`), bearer tokens get 401 saying so.
    public init(apiKey: String, bearer: BearerTokenVerifier?) {
        self.key = Array(apiKey.utf8)
        self.bearer = bearer
    }

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        if PublicPaths.all.contains(request.uri.path) { return try await next(request, context) }
        var context = context
        if let presented = request.headers[.init("X-API-Key")!] {
            guard Self.constantTimeEquals(Array(presented.utf8), self.key) else {
                throw APIError.unauthorized("The API key is not valid.")
            }
            context.caller = .service
            context.requestLog["caller"] = "service"
        } else if let authorization = request.headers[.authorization] {
            guard let token = Self.bearerToken(authorization) else {
                throw APIError.unauthorized("The Authorization header must be 'Bearer <token>'.")
            }
            guard let bearer = self.bearer else {
                throw APIError.unauthorized("This service accepts no bearer tokens: JWT_PUBLIC_KEY is not configured. Use X-API-Key.")
            }
            let user = try await bearer.verify(token)
            context.caller = .user(user)
            context.requestLog["caller"] = .string("user:\(user.id.lowercasedText)")
        } else {
            throw APIError.unauthorized("Send the service API key in X-API-Key, or a user token as 'Authorization: Bearer <token>'.")
        }
        return try await next(request, context)
    }

    /// The token of `Bearer <token>` (the scheme in any case, as RFC 9110 allows), or nil.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
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
