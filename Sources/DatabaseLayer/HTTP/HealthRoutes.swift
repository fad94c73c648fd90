import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// One dependency check for `/health/ready`.
public struct ReadinessCheck: Sendable {
    /// Name in the readiness body (`postgres:system_users`, `mongodb:task_repository`, `redis`).
    public var name: String
    /// Whether the service cannot work without this dependency: a failing critical check makes readiness `fail`
    /// (503); a failing optional one (Redis: the cache and rate limit fail open) only makes it `warn` (200).
    public var critical: Bool
    /// Throws when the dependency is not usable.
    public var check: @Sendable () async throws -> Void

    /// Creates a check.
    /// - Parameters:
    ///   - name: the name in the readiness body.
    ///   - critical: false for a dependency the service degrades without; its failure is reported as `warn`.
    ///   - check: throws when the dependency is not usable.
    public init(name: String, critical: Bool = true, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.critical = critical
        self.check = check
    }
}

/// The readiness body: `{"status":"pass"|"warn"|"fail","checks":{name:{status,latency_ms,error?}}}`.
public struct ReadinessReport: Codable, Sendable {
    /// One check's outcome.
    public struct Result: Codable, Sendable {
        /// `pass`, `warn` or `fail`.
        public var status: String
        /// How long the check took.
        public var latencyMilliseconds: Double
        /// A client-safe reason when it did not pass.
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case status
            case latencyMilliseconds = "latency_ms"
            case error
        }
    }

    /// The overall status: `fail` when a critical check failed, `warn` when only optional ones did, else `pass`.
    public var status: String
    /// The service name.
    public var service: String
    /// The checks by name.
    public var checks: [String: Result]
}

/// `/health`, `/health/ready` and `/metrics`.
enum HealthRoutes {
    /// Each check gets this long before it counts as failed, so readiness answers promptly even when a store hangs.
    static let checkTimeout: Duration = .seconds(2)

    static func add(
        to router: Router<ServiceRequestContext>, serviceName: String, checks: [ReadinessCheck], metrics: ServiceMetrics,
        checkTimeout: Duration = Self.checkTimeout
    ) {
        router.get("/health") { _, _ -> Response in
            Self.json(.ok, #"{"status":"ok","service":"\#(serviceName)"}"#)
        }
        router.get("/health/ready") { _, context -> Response in
            let report = await Self.report(serviceName: serviceName, checks: checks, timeout: checkTimeout)
            if report.status != "pass" {
                let failing = report.checks.filter { $0.value.status != "pass" }.keys.sorted()
                context.logger.warning(report.status == "fail" ? "not ready" : "ready, degraded", metadata: ["checks": "\(failing)"])
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
            return Self.json(report.status == "fail" ? .serviceUnavailable : .ok, body, contentType: "application/health+json")
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render()))
            )
        }
    }

    /// Runs every check in parallel and folds the outcomes: a failed optional check reads `warn`, and the overall
    /// status is the worst of them.
    static func report(serviceName: String, checks: [ReadinessCheck], timeout: Duration) async -> ReadinessReport {
        let results = await withTaskGroup(of: (String, ReadinessReport.Result).self) { group in
            for check in checks {
                group.addTask {
                    var result = await Self.run(check, timeout: timeout)
                    if result.status == "fail", !check.critical { result.status = "warn" }
                    return (check.name, result)
                }
            }
            var results: [String: ReadinessReport.Result] = [:]
            for await (name, result) in group { results[name] = result }
            return results
        }
        let statuses = Set(results.values.map(\.status))
        let status = statuses.contains("fail") ? "fail" : (statuses.contains("warn") ? "warn" : "pass")
        return ReadinessReport(status: status, service: serviceName, checks: results)
    }

    /// Runs one check with a hard deadline: the answer comes at `timeout` at the latest, whatever the check is doing.
    ///
    /// A ping blocked in a C call cannot be cancelled, and a task group waits for its children, so the check runs
    /// in an unstructured task that may finish after the answer has gone out; whichever of it and the timer comes
    /// first resumes the continuation, and the later one finds it already taken.
    static func run(_ check: ReadinessCheck, timeout: Duration) async -> ReadinessReport.Result {
        let start = ContinuousClock.now
        let outcome: String? = await withCheckedContinuation { continuation in
            let first = FirstOutcome(continuation)
            let timer = Task {
                // A cancelled sleep means the check answered first; the resume below is then a no-op anyway.
                try? await Task.sleep(for: timeout)
                first.resume("timed out")
            }
            Task {
                first.resume(await Self.outcome(of: check))
                timer.cancel()
            }
        }
        let milliseconds = ((ContinuousClock.now - start).seconds * 1000 * 100).rounded() / 100
        return .init(status: outcome == nil ? "pass" : "fail", latencyMilliseconds: milliseconds, error: outcome)
    }

    /// Nil when the check passed, else a client-safe reason.
    private static func outcome(of check: ReadinessCheck) async -> String? {
        do {
            try await check.check()
            return nil
        } catch let error as DatabaseError {
            return error.message
        } catch {
            return "check failed"
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: String, contentType: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Resumes a continuation with the first outcome offered and ignores the rest, so a late check cannot resume twice.
private final class FirstOutcome: Sendable {
    private let continuation: Mutex<CheckedContinuation<String?, Never>?>

    init(_ continuation: CheckedContinuation<String?, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ outcome: String?) {
        self.continuation.withLock { $0.take() }?.resume(returning: outcome)
    }
}
