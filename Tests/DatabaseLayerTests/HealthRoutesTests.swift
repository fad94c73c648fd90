@testable import DatabaseLayer
import DatabaseLayerTesting
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import Testing

/// A check stuck in something cancellation cannot reach, like a ping blocked inside a C call.
private func hungCheck(seconds: Int) -> @Sendable () async throws -> Void {
    {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) { continuation.resume() }
        }
    }
}

private func failingCheck() async throws {
    throw DatabaseError(.unavailable, "The store is unavailable.")
}

private func readinessRouter(_ checks: [ReadinessCheck], timeout: Duration) -> Router<ServiceRequestContext> {
    let router = Router(context: ServiceRequestContext.self)
    HealthRoutes.add(to: router, serviceName: "probe", checks: checks, metrics: ServiceMetrics(), checkTimeout: timeout)
    return router
}

private func readiness(_ router: Router<ServiceRequestContext>) async throws -> (HTTPResponse.Status, ReadinessReport) {
    try await Application(router: router).test(.router) { client in
        try await client.execute(uri: "/health/ready", method: .get) { response in
            (response.status, try JSONDecoder().decode(ReadinessReport.self, from: Data(response.body.readableBytesView)))
        }
    }
}

@Suite struct ReadinessDeadlineTests {
    @Test func aHungCheckTimesOutAtTheDeadline() async throws {
        let start = ContinuousClock.now
        let result = await HealthRoutes.run(ReadinessCheck(name: "hung", check: hungCheck(seconds: 30)), timeout: .milliseconds(200))
        // Generous bound: the check itself would take 30 s.
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(result.status == "fail")
        #expect(result.error == "timed out")
    }

    @Test func aQuickCheckIsNotHeldUpByTheTimer() async throws {
        let start = ContinuousClock.now
        let result = await HealthRoutes.run(ReadinessCheck(name: "ok") {}, timeout: .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(result.status == "pass")
        #expect(result.error == nil)
    }

    @Test func readinessAnswersWhileAStoreHangs() async throws {
        let router = readinessRouter(
            [ReadinessCheck(name: "postgres:hung", check: hungCheck(seconds: 30)), ReadinessCheck(name: "mongodb:ok") {}],
            timeout: .milliseconds(200))
        let start = ContinuousClock.now
        let (status, report) = try await readiness(router)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(status == .serviceUnavailable)
        #expect(report.status == "fail")
        #expect(report.checks["postgres:hung"]?.error == "timed out")
        #expect(report.checks["mongodb:ok"]?.status == "pass")
    }
}

@Suite struct ReadinessCriticalityTests {
    @Test func anOptionalFailureWarnsWith200() async throws {
        let router = readinessRouter(
            [ReadinessCheck(name: "postgres:db") {}, ReadinessCheck(name: "redis", critical: false, check: failingCheck)], timeout: .seconds(2))
        let (status, report) = try await readiness(router)
        #expect(status == .ok)
        #expect(report.status == "warn")
        #expect(report.checks["redis"]?.status == "warn")
        #expect(report.checks["redis"]?.error == "The store is unavailable.")
        #expect(report.checks["postgres:db"]?.status == "pass")
    }

    @Test func aCriticalFailureFailsWith503EvenBesideAWarning() async throws {
        let router = readinessRouter(
            [ReadinessCheck(name: "postgres:db", check: failingCheck), ReadinessCheck(name: "redis", critical: false, check: failingCheck)],
            timeout: .seconds(2))
        let (status, report) = try await readiness(router)
        #expect(status == .serviceUnavailable)
        #expect(report.status == "fail")
        #expect(report.checks["postgres:db"]?.status == "fail")
        #expect(report.checks["redis"]?.status == "warn")
    }

    @Test func allPassingIsPass() async throws {
        let (status, report) = try await readiness(readinessRouter([ReadinessCheck(name: "redis", critical: false) {}], timeout: .seconds(2)))
        #expect(status == .ok)
        #expect(report.status == "pass")
    }

    /// The runtime registers Redis as optional: with nothing listening on its port, the service is still ready.
    @Test func runtimeRegistersRedisAsOptional() async throws {
        let http = try HTTPServiceConfiguration(
            environment: testServiceEnvironment(["REDIS_URL": "redis://127.0.0.1:1"]), descriptor: ServiceDescriptor(name: "probe", defaultPort: 0))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let runtime = ServiceRuntime(configuration: http, logger: logger)
        let app = runtime.makeApplication(router: runtime.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                let report = try JSONDecoder().decode(ReadinessReport.self, from: Data(response.body.readableBytesView))
                #expect(response.status == .ok)
                #expect(report.status == "warn")
                #expect(report.checks["redis"]?.status == "warn")
            }
        }
    }
}
