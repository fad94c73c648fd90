/// Paths that answer without credentials: liveness, readiness and metrics.
enum PublicPaths {
    static let all: Set<String> = ["/health", "/health/ready", "/metrics"]
}
