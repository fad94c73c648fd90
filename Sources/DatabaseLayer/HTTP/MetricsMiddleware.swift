public import Hummingbird

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
