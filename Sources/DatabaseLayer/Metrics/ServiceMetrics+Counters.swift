import Prometheus

extension ServiceMetrics {
    /// Adds one to a service-specific counter, exposed as `<name>_total{labels}` on `/metrics`.
    ///
    /// Lets a service count its own events (`tenants_provisioned_total{result}`) without depending on the Prometheus
    /// module itself: the registry returns the same counter for the same name and labels, so this is cheap to repeat.
    /// - Parameters:
    ///   - name: metric name without the `_total` suffix (snake_case).
    ///   - help: the `# HELP` text.
    ///   - labels: label pairs; keep their values to a small, fixed set.
    public func incrementCounter(named name: String, help: String, labels: [(String, String)] = []) {
        self.registry.makeCounter(descriptor: .init(metricName: name, unitName: "total", helpText: help), labels: labels).increment()
    }
}
