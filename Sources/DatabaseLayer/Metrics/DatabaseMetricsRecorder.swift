/// Where pools and stores report what they do; ``ServiceMetrics`` is the Prometheus implementation.
public protocol DatabaseMetricsRecorder: Sendable {
    /// One database operation took `duration` (`db_operation_duration_seconds{backend,operation}`).
    func recordOperation(backend: String, operation: String, duration: Duration)
    /// A lease waited `duration` for a connection (`db_pool_wait_seconds{backend}`).
    func recordPoolWait(backend: String, duration: Duration)
    /// A pool whose counts are read at scrape time (`db_pool_connections{backend,pool,state}`).
    func registerPool(backend: String, name: String, statistics: @escaping @Sendable () -> ConnectionPoolStatistics)
    /// A cache lookup ended as `hit`, `miss` or `error` (`cache_requests_total{result}`).
    func recordCache(result: String)
}
