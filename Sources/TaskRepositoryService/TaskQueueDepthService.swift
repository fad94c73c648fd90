import Foundation
import Logging
import ServiceLifecycle

/// Refreshes the ready-queue gauge every few seconds: counting on every scrape would put a query on the
/// scrape path, and Prometheus renders synchronously.
struct TaskQueueDepthService<Repository: TaskRepository>: Service {
    /// Where the tasks are.
    let repository: Repository
    /// Where the gauge is.
    let metrics: TaskMetrics
    /// For refresh failures (debug: a store outage is reported by readiness, not here).
    let logger: Logger
    /// Time between refreshes.
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
