import Foundation
public import Hummingbird
import Logging
import NIOCore

/// Outermost middleware: assigns the request id, puts it on every log line and the response, logs the outcome.
///
/// The id comes from `X-Request-ID` when it is short and plain, else from a W3C `traceparent` trace id, else a new UUID.
public struct RequestLoggingMiddleware: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(from: request)
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // ProblemMiddleware sits inside this one; anything reaching here escaped it, so convert it here too.
            let (problem, retryAfter, _) = Problem.from(error)
            response = problem.response(retryAfter: retryAfter)
        }
        response.headers[.init("X-Request-ID")!] = context.requestID
        let milliseconds = (ContinuousClock.now - start).seconds * 1000
        // Inner layers (the tenant) log through their own copies of the context; what they want on this line they
        // put in the shared requestLog box.
        var metadata = context.requestLog.metadata
        metadata["method"] = .string(request.method.rawValue)
        metadata["path"] = .string(request.uri.path)
        metadata["status"] = .stringConvertible(response.status.code)
        metadata["duration_ms"] = .string(String(format: "%.2f", milliseconds))
        context.logger.info("request", metadata: metadata)
        return response
    }

    static func requestID(from request: Request) -> String {
        if let given = request.headers[.init("X-Request-ID")!], (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E })
        {
            return given
        }
        // traceparent: version-traceid-parentid-flags; the 32-hex trace id ties our logs to the caller's trace.
        if let traceparent = request.headers[.init("traceparent")!] {
            let parts = traceparent.split(separator: "-")
            if parts.count == 4, parts[1].utf8.count == 32, parts[1].allSatisfy(\.isHexDigit), parts[1] != String(repeating: "0", count: 32) {
                return String(parts[1])
            }
        }
        return UUID().uuidString.lowercased()
    }
}

/// Records `http_requests_total` and `http_request_duration_seconds` labelled by route template.
public struct MetricsMiddleware: RouterMiddleware {
    let metrics: ServiceMetrics

    /// Creates the middleware.
    public init(metrics: ServiceMetrics) { self.metrics = metrics }

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        // The router stores the matched template in the shared endpoint box; unmatched paths get one label.
        let route = context.endpointPath ?? "unmatched"
        self.metrics.recordRequest(
            method: request.method.rawValue, route: route, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }
}

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
                context.logger.error("request failed", metadata: ["error": .string(Self.logText(error))])
            } else if problem.status >= 500 {
                context.logger.warning("request failed", metadata: ["error": .string(Self.logText(error))])
            } else {
                context.logger.debug("request rejected", metadata: ["code": .string(problem.code), "detail": .string(problem.detail)])
            }
            return problem.response(retryAfter: retryAfter)
        }
    }

    private static func logText(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return "\(error.code.rawValue): \(error.debugDetails ?? error.message)" }
        return String(reflecting: error)
    }
}

/// Paths that answer without credentials: liveness, readiness and metrics.
enum PublicPaths {
    static let all: Set<String> = ["/health", "/health/ready", "/metrics"]
}

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
                throw APIError(.tooManyRequests, code: "rate_limited", detail: "Too many requests for this tenant; retry later.", retryAfter: 60 - now % 60)
            }
        } catch let error as APIError {
            throw error
        } catch {
            context.logger.warning("rate limit check failed; allowing the request", metadata: ["error": "\(error)"])
        }
        return try await next(request, context)
    }
}
