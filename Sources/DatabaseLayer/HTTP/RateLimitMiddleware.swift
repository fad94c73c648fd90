import Foundation
public import Hummingbird
import Logging

/// Per-tenant fixed-window rate limit in Redis (`INCR` + `EXPIRE`): 429 with `Retry-After` beyond the limit.
///
/// Fails open: when Redis is down, requests pass and the failure is logged, so the cache cannot take the service down.
public struct RateLimitMiddleware: RouterMiddleware {
    let redis: RedisPool
    let limitPerMinute: Int

    /// Creates the middleware.
    public init(redis: RedisPool, limitPerMinute: Int) {
        self.redis = redis
        self.limitPerMinute = limitPerMinute
    }

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        if PublicPaths.all.contains(request.uri.path) { return try await next(request, context) }
        let now = Int(Date().timeIntervalSince1970)
        let window = now / 60
        let key = "ratelimit:\(context.tenant?.rawValue ?? "_service"):\(window)"
        do {
            let count = try await self.redis.increment(key)
            if count == 1 { try await self.redis.expire(key, seconds: 61) }
            if count > self.limitPerMinute {
                throw APIError(
                    .tooManyRequests, code: "rate_limited", detail: "Too many requests for this tenant; retry later.", retryAfter: 60 - now % 60)
            }
        } catch let error as APIError {
            throw error
        } catch {
            context.logger.warning("rate limit check failed; allowing the request", metadata: ["error": .string(String(reflecting: error))])
        }
        return try await next(request, context)
    }
}
