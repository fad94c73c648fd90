import Testing

@testable import DatabaseLayer

/// ``ServiceMetrics`` makes each label set's metrics once and reuses them; the exposition must not notice.
@Suite struct ServiceMetricsTests {
    static func exposition(_ metrics: ServiceMetrics) -> String { String(decoding: metrics.render(), as: UTF8.self) }

    @Test func repeatedRequestsCountOnOneSeries() {
        let metrics = ServiceMetrics()
        for status in [200, 200, 404] {
            metrics.recordRequest(method: "GET", route: "/api/v1/tasks/{id}", status: status, duration: .milliseconds(3))
        }
        let text = Self.exposition(metrics)
        #expect(text.contains(#"http_requests_total{method="GET",route="/api/v1/tasks/{id}",status="200"} 2"#))
        #expect(text.contains(#"http_requests_total{method="GET",route="/api/v1/tasks/{id}",status="404"} 1"#))
        #expect(text.contains(#"http_request_duration_seconds_count{method="GET",route="/api/v1/tasks/{id}"} 3"#))
    }

    @Test func unknownMethodsShareOneLabel() {
        let metrics = ServiceMetrics()
        for method in ["BREW", "PROPFIND", "X-\(Int.random(in: 0...1000))"] {
            metrics.recordRequest(method: method, route: "unmatched", status: 405, duration: .milliseconds(1))
        }
        let text = Self.exposition(metrics)
        #expect(text.contains(#"http_requests_total{method="OTHER",route="unmatched",status="405"} 3"#))
        #expect(!text.contains("BREW"))
    }

    @Test func operationsCountOnOneSeriesEach() {
        let metrics = ServiceMetrics()
        metrics.recordOperation(backend: "mongodb", operation: "find", duration: .milliseconds(2))
        metrics.recordOperation(backend: "mongodb", operation: "find", duration: .milliseconds(2))
        metrics.recordOperation(backend: "postgresql", operation: "query", duration: .milliseconds(2))
        let text = Self.exposition(metrics)
        #expect(text.contains(#"db_operation_duration_seconds_count{backend="mongodb",operation="find"} 2"#))
        #expect(text.contains(#"db_operation_duration_seconds_count{backend="postgresql",operation="query"} 1"#))
    }

    @Test func poolWaitsAndCacheLookupsCountOnOneSeriesEach() {
        let metrics = ServiceMetrics()
        for _ in 0..<3 { metrics.recordPoolWait(backend: "mongodb", duration: .milliseconds(1)) }
        for result in ["hit", "hit", "miss"] { metrics.recordCache(result: result) }
        let text = Self.exposition(metrics)
        #expect(text.contains(#"db_pool_wait_seconds_count{backend="mongodb"} 3"#))
        #expect(text.contains(#"cache_requests_total{result="hit"} 2"#))
        #expect(text.contains(#"cache_requests_total{result="miss"} 1"#))
    }
}
