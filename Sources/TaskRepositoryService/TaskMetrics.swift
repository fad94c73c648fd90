import DatabaseLayer

/// The task service's own metric families, beside the shared HTTP and database ones. Everything goes through
/// ``ServiceMetrics`` helpers, so the service does not depend on the Prometheus module.
struct TaskMetrics: Sendable {
    /// The service's registry.
    let metrics: ServiceMetrics

    /// Counts a created task (`tasks_created_total`).
    func created() { self.metrics.incrementCounter(named: "tasks_created", help: "Tasks created") }
    /// Counts a task handed to a worker (`tasks_claimed_total`).
    func claimed() { self.metrics.incrementCounter(named: "tasks_claimed", help: "Tasks handed to a worker") }
    /// Counts a completed task (`tasks_completed_total`).
    func completed() { self.metrics.incrementCounter(named: "tasks_completed", help: "Tasks completed") }
    /// Counts a reported failure (`tasks_failed_total{outcome="retry"|"final"}`).
    func failed(final: Bool) {
        self.metrics.incrementCounter(
            named: "tasks_failed",
            help: "Task failures reported by workers",
            labels: [("outcome", final ? "final" : "retry")]
        )
    }

    /// Records how long a claim took (`task_claim_duration_seconds{kind="by_id"|"next"}`).
    func claimLatency(_ duration: Duration, kind: String) {
        self.metrics.recordDuration(named: "task_claim_duration", help: "Time to claim a task", labels: [("kind", kind)], duration)
    }

    /// Sets `tasks_ready` (the ready-queue depth).
    func readyDepth(_ count: Int) {
        self.metrics.setGauge(named: "tasks_ready", help: "Tasks ready to be claimed", to: Double(count))
    }
}
