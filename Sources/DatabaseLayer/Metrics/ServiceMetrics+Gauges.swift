import Prometheus

extension ServiceMetrics {
    /// Sets a service-specific gauge, exposed as `<name>{labels}` on `/metrics`.
    ///
    /// Like ``incrementCounter(named:help:labels:)``, this lets a service publish its own values (queue depth)
    /// without importing Prometheus; the registry returns the same gauge for the same name and labels.
    /// - Parameters:
    ///   - name: metric name (snake_case, no unit suffix).
    ///   - help: the `# HELP` text.
    ///   - labels: label pairs; keep their values to a small, fixed set.
    ///   - value: the new value.
    public func setGauge(named name: String, help: String, labels: [(String, String)] = [], to value: Double) {
        self.registry.makeGauge(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels).set(value)
    }

    /// Records a duration in a service-specific histogram, exposed as `<name>_seconds{labels}` with the shared
    /// ``latencyBuckets``, so every latency family of every service can be compared bucket for bucket.
    /// - Parameters:
    ///   - name: metric name without the `_seconds` suffix (snake_case).
    ///   - help: the `# HELP` text.
    ///   - labels: label pairs; keep their values to a small, fixed set.
    ///   - duration: the observation.
    public func recordDuration(named name: String, help: String, labels: [(String, String)] = [], _ duration: Duration) {
        self.registry.makeDurationHistogram(
            descriptor: .init(metricName: name, unitName: "seconds", helpText: help),
            labels: labels,
            buckets: Self.latencyBuckets
        ).record(duration)
    }
}
