import Hummingbird
public import Logging
public import ServiceLifecycle
import Synchronization

/// Work that must finish before a service takes traffic: ensuring indexes, applying migrations.
///
/// It runs as a `Service` once the stores are up and the listener is open, so `/health` answers while it runs
/// (a long migration must not look like a dead process to a liveness probe). Until every step has succeeded,
/// `/health/ready` fails its `startup` check and every business request gets `503 starting`. A step that fails
/// (a store not up yet) is retried with capped exponential backoff rather than crashing the process.
public final class StartupWork: Service, Sendable {
    /// One named step.
    struct Step: Sendable {
        var name: String
        var body: @Sendable () async throws -> Void
    }

    private let steps: Mutex<[Step]> = Mutex([])
    private let finished = Atomic<Bool>(false)
    private let lastError: Mutex<String?> = Mutex(nil)
    private let logger: Logger
    /// The longest pause between two attempts of a failing step.
    let maximumBackoff: Duration

    /// Creates the (empty) startup work of one service.
    public init(logger: Logger, maximumBackoff: Duration = .seconds(10)) {
        self.logger = logger
        self.maximumBackoff = maximumBackoff
    }

    /// Adds a step; steps run in the order they were added. Add them before the service runs.
    public func add(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.steps.withLock { $0.append(Step(name: name, body: body)) }
    }

    /// Whether every step has succeeded.
    public var isFinished: Bool { self.finished.load(ordering: .acquiring) }

    /// Runs the steps, retrying each until it succeeds or the service shuts down, then idles until shutdown.
    /// A step that throws ``StartupFailure`` is not retried: it is logged and thrown, which stops the service.
    public func run() async throws {
        let steps = self.steps.withLock { $0 }
        let failure: StartupFailure? = await cancelWhenGracefulShutdown { () async -> StartupFailure? in
            for step in steps {
                var delay = Duration.milliseconds(100)
                while !Task.isCancelled {
                    do {
                        try await step.body()
                        self.logger.debug("startup step done", metadata: ["step": .string(step.name)])
                        break
                    } catch let failure as StartupFailure {
                        self.lastError.withLock { $0 = "\(step.name) failed" }
                        self.logger.critical(
                            "startup step failed; the service stops", metadata: ["step": .string(step.name), "error": .string(failure.reason)])
                        return failure
                    } catch {
                        self.lastError.withLock { $0 = "\(step.name) failed; retrying" }
                        self.logger.warning(
                            "startup step failed; retrying", metadata: ["step": .string(step.name), "error": .string(String(reflecting: error))])
                        try? await Task.sleep(for: delay)
                        delay = min(delay * 2, self.maximumBackoff)
                    }
                }
            }
            guard !Task.isCancelled else { return nil }
            self.finished.store(true, ordering: .releasing)
            self.logger.info("startup work finished", metadata: ["steps": .stringConvertible(steps.count)])
            return nil
        }
        if let failure { throw failure }
        try? await gracefulShutdown()
    }

    /// The readiness check: passes once every step has succeeded.
    var readinessCheck: ReadinessCheck {
        ReadinessCheck(name: "startup") {
            guard self.isFinished else {
                throw DatabaseError(.unavailable, self.lastError.withLock { $0 } == nil ? "starting" : "starting: a startup step is being retried")
            }
        }
    }
}

/// A startup step failed in a way retrying cannot fix (a migration script failed, an applied migration changed):
/// the service logs ``reason`` and exits instead of taking traffic.
public struct StartupFailure: Error, Sendable, CustomStringConvertible {
    /// One line naming what failed; never a secret.
    public var reason: String

    /// Creates the failure.
    public init(_ reason: String) { self.reason = reason }

    /// The reason.
    public var description: String { self.reason }
}

/// Answers `503 starting` (with `Retry-After`) for everything but health and metrics until ``StartupWork`` is done.
struct StartupGateMiddleware: RouterMiddleware {
    let work: StartupWork

    func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        if !self.work.isFinished, !PublicPaths.all.contains(request.uri.path) {
            throw APIError(.serviceUnavailable, code: "starting", detail: "The service is still starting; retry shortly.", retryAfter: 1)
        }
        return try await next(request, context)
    }
}
