import Foundation
import Hummingbird
import Logging
import NIOCore

/// One dependency check for `/health/ready`.
public struct ReadinessCheck: Sendable {
    /// Name in the readiness body (`postgres:system_users`, `mongodb:task_repository`, `redis`).
    public var name: String
    /// Throws when the dependency is not usable.
    public var check: @Sendable () async throws -> Void

    /// Creates a check.
    public init(name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// The readiness body: `{"status":"pass"|"fail","checks":{name:{status,latency_ms,error?}}}`.
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

    /// The overall status.
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

    static func add(to router: Router<ServiceRequestContext>, serviceName: String, checks: [ReadinessCheck], metrics: ServiceMetrics) {
        router.get("/health") { _, _ -> Response in
            Self.json(.ok, #"{"status":"ok","service":"\#(serviceName)"}"#)
        }
        router.get("/health/ready") { _, context -> Response in
            let results = await withTaskGroup(of: (String, ReadinessReport.Result).self) { group in
                for check in checks {
                    group.addTask { (check.name, await Self.run(check)) }
                }
                var results: [String: ReadinessReport.Result] = [:]
                for await (name, result) in group { results[name] = result }
                return results
            }
            let healthy = results.values.allSatisfy { $0.status == "pass" }
            if !healthy { context.logger.warning("not ready", metadata: ["checks": "\(results.filter { $0.value.status != "pass" }.keys.sorted())"]) }
            let report = ReadinessReport(status: healthy ? "pass" : "fail", service: serviceName, checks: results)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
            return Self.json(healthy ? .ok : .serviceUnavailable, body, contentType: "application/health+json")
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render()))
            )
        }
    }

    static func run(_ check: ReadinessCheck) async -> ReadinessReport.Result {
        let start = ContinuousClock.now
        let outcome: String? = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await check.check()
                    return nil
                } catch let error as DatabaseError {
                    return error.message
                } catch {
                    return "check failed"
                }
            }
            group.addTask {
                try? await Task.sleep(for: checkTimeout)
                return "timed out"
            }
            let first = await group.next() ?? "check failed"
            group.cancelAll()
            return first
        }
        let milliseconds = ((ContinuousClock.now - start).seconds * 1000 * 100).rounded() / 100
        return .init(status: outcome == nil ? "pass" : "fail", latencyMilliseconds: milliseconds, error: outcome)
    }

    static func json(_ status: HTTPResponse.Status, _ body: String, contentType: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
