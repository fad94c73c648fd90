import DatabaseLayer
import Foundation
import Logging
import Prometheus
import ServiceLifecycle

/// The task service's own metric families, beside the shared HTTP and database ones.
struct TaskMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    /// Counts one lifecycle event: `tasks_created_total`, `tasks_claimed_total`, `tasks_completed_total`,
    /// `tasks_failed_total{outcome="retry"|"final"}`.
    func created() { self.counter("tasks_created", "Tasks created").increment() }
    func claimed() { self.counter("tasks_claimed", "Tasks handed to a worker").increment() }
    func completed() { self.counter("tasks_completed", "Tasks completed").increment() }
    func failed(final: Bool) {
        self.registry.makeCounter(
            descriptor: .init(metricName: "tasks_failed", unitName: "total", helpText: "Task failures reported by workers"),
            labels: [("outcome", final ? "final" : "retry")]
        ).increment()
    }

    /// Records how long a claim took (`task_claim_duration_seconds{kind="by_id"|"next"}`).
    func claimLatency(_ duration: Duration, kind: String) {
        self.registry.makeDurationHistogram(
            descriptor: .init(metricName: "task_claim_duration", unitName: "seconds", helpText: "Time to claim a task"),
            labels: [("kind", kind)], buckets: ServiceMetrics.latencyBuckets
        ).record(duration)
    }

    /// Sets `tasks_ready` (the ready-queue depth).
    func readyDepth(_ count: Int) {
        self.registry.makeGauge(descriptor: .init(metricName: "tasks_ready", unitName: "", helpText: "Tasks ready to be claimed")).set(Double(count))
    }

    private func counter(_ name: String, _ help: String) -> Counter {
        self.registry.makeCounter(descriptor: .init(metricName: name, unitName: "total", helpText: help))
    }
}

/// Refreshes the ready-queue gauge every few seconds: counting on every scrape would put a query on the
/// scrape path, and Prometheus renders synchronously.
struct TaskQueueDepthService: Service {
    let repository: MongoTaskRepository
    let metrics: TaskMetrics
    let logger: Logger
    var interval: Duration = .seconds(10)

    /// Refreshes until graceful shutdown.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    self.metrics.readyDepth(try await self.repository.readyCount(now: Date()))
                } catch {
                    self.logger.debug("ready-queue depth not refreshed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
