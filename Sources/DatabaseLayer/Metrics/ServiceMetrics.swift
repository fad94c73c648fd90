import NIOConcurrencyHelpers
public import Prometheus

/// The service's Prometheus registry and the shared metric families of DESIGN §4.
///
/// Each service creates one and passes it to its pools and the HTTP middleware; `/metrics` renders it.
public final class ServiceMetrics: DatabaseMetricsRecorder, Sendable {
    /// The registry; services add their own families to it.
    public let registry: PrometheusCollectorRegistry
    private let pools = NIOLockedValueBox<[(backend: String, name: String, statistics: @Sendable () -> ConnectionPoolStatistics)]>([])
    /// The per-request metrics already made, by their labels. The registry builds a descriptor, validates the name and
    /// takes its lock for every `make…` call; that was 2 % of a GET's CPU (docs/performance.md), so each label set
    /// is made once. All label values are bounded: route templates, known methods, status codes, backends, operation names,
    /// cache results.
    private let requestMetrics = NIOLockedValueBox<[RequestLabels: (requests: Counter, duration: DurationHistogram)]>([:])
    private let operationMetrics = NIOLockedValueBox<[OperationLabels: DurationHistogram]>([:])
    private let poolWaitMetrics = NIOLockedValueBox<[String: DurationHistogram]>([:])
    private let cacheMetrics = NIOLockedValueBox<[String: Counter]>([:])

    private struct RequestLabels: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    private struct OperationLabels: Hashable {
        var backend: String
        var operation: String
    }

    /// Methods that get their own label; any other (a client may send any token) is counted as `OTHER`, so a client
    /// cannot grow the label set.
    static let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Latency buckets from 1 ms to 10 s, shared by every duration histogram.
    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Creates an empty registry.
    public init() {
        self.registry = PrometheusCollectorRegistry()
    }

    /// Counts one HTTP request (`http_requests_total`) and records its duration (`http_request_duration_seconds`).
    /// - Parameters:
    ///   - method: HTTP method.
    ///   - route: the route template (never the raw path, which would explode cardinality).
    ///   - status: response status code.
    ///   - duration: time to the response head.
    public func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let labels = RequestLabels(method: Self.labelledMethods.contains(method) ? method : "OTHER", route: route, status: status)
        let metrics = self.requestMetrics.withLockedValue { made in
            if let metrics = made[labels] { return metrics }
            let metrics = (
                requests: self.registry.makeCounter(
                    descriptor: .init(metricName: "http_requests", unitName: "total", helpText: "HTTP requests handled"),
                    labels: [("method", labels.method), ("route", route), ("status", String(status))]),
                duration: self.registry.makeDurationHistogram(
                    descriptor: .init(metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency"),
                    labels: [("method", labels.method), ("route", route)],
                    buckets: Self.latencyBuckets)
            )
            made[labels] = metrics
            return metrics
        }
        metrics.requests.increment()
        metrics.duration.record(duration)
    }

    /// Records a database operation's duration.
    public func recordOperation(backend: String, operation: String, duration: Duration) {
        let labels = OperationLabels(backend: backend, operation: operation)
        let histogram = self.operationMetrics.withLockedValue { made in
            if let histogram = made[labels] { return histogram }
            let histogram = self.registry.makeDurationHistogram(
                descriptor: .init(metricName: "db_operation_duration", unitName: "seconds", helpText: "Database operation latency"),
                labels: [("backend", backend), ("operation", operation)],
                buckets: Self.latencyBuckets)
            made[labels] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    /// Records how long a lease waited for a connection.
    public func recordPoolWait(backend: String, duration: Duration) {
        let histogram = self.poolWaitMetrics.withLockedValue { made in
            if let histogram = made[backend] { return histogram }
            let histogram = self.registry.makeDurationHistogram(
                descriptor: .init(metricName: "db_pool_wait", unitName: "seconds", helpText: "Time spent waiting for a pooled connection"),
                labels: [("backend", backend)],
                buckets: Self.latencyBuckets)
            made[backend] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    /// Registers a pool whose counts are published at every scrape.
    public func registerPool(backend: String, name: String, statistics: @escaping @Sendable () -> ConnectionPoolStatistics) {
        self.pools.withLockedValue { $0.append((backend, name, statistics)) }
    }

    /// Counts a cache lookup.
    public func recordCache(result: String) {
        let counter = self.cacheMetrics.withLockedValue { made in
            if let counter = made[result] { return counter }
            let counter = self.registry.makeCounter(
                descriptor: .init(metricName: "cache_requests", unitName: "total", helpText: "Cache lookups by result"),
                labels: [("result", result)])
            made[result] = counter
            return counter
        }
        counter.increment()
    }

    /// The exposition text (Prometheus text format 0.0.4), with pool gauges refreshed first.
    public func render() -> [UInt8] {
        for pool in self.pools.withLockedValue({ $0 }) {
            let statistics = pool.statistics()
            for (state, value) in [("idle", statistics.idle), ("in_use", statistics.inUse), ("waiting", statistics.waiting)] {
                self.registry.makeGauge(
                    descriptor: .init(metricName: "db_pool_connections", unitName: "", helpText: "Pooled connections by state"),
                    labels: [("backend", pool.backend), ("pool", pool.name), ("state", state)]
                ).set(Double(value))
            }
        }
        return self.registry.emitToBuffer()
    }
}
