import DatabaseLayer
import DatabaseLayerTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import TaskRepositoryService

@Suite(.enabled(if: TestServers.mongoEnabled, TestServers.skipReason))
struct TaskRepositoryBootIntegrationTests {
    /// Readiness lists the MongoDB store and the startup work.
    @Test func reportsItsStores() async throws {
        let report = try await ServiceBoot.readiness(
            TaskRepositoryApp.makeApplication(
                environment: testServiceEnvironment(["MONGODB_URI": ServiceBoot.uri(try TestServers.primaryMongo(), database: "task_repository")]),
                logger: TestServers.logger
            )
        )
        #expect(Set(report.checks.keys).isSuperset(of: ["mongodb:task_repository", "startup"]))
    }

    /// Bearer tokens are verified, and a valid user token is refused with 403: the queue is for service callers.
    @Test func userTokensAreVerifiedThenRefused() async throws {
        let uri = ServiceBoot.uri(try TestServers.primaryMongo(), database: "task_repository")
        try await ServiceBoot.checkBearerTokens(path: "/api/v1/tasks", waitUntilReady: true) { extra in
            try await TaskRepositoryApp.makeApplication(
                environment: testServiceEnvironment(["MONGODB_URI": uri].merging(extra) { $1 }), logger: TestServers.logger)
        } validStatus: { $0 == 403 }
    }

    /// A missing MONGODB_URI is a configuration error naming it.
    @Test func missingRequiredVariableNamesIt() async throws {
        do {
            _ = try await TaskRepositoryApp.makeApplication(environment: ServiceEnvironment(["API_KEY": testAPIKey]), logger: TestServers.logger)
            Issue.record("expected a configuration error")
        } catch let error as ConfigurationError {
            #expect(error.variable == "MONGODB_URI")
        }
    }

    /// The exposition of a running service passes `promtool check metrics`.
    @Test func metricsOfARunningServicePassPromtool() async throws {
        let promtool = try #require(
            ProcessInfo.processInfo.environment["PROMTOOL"] ?? ["/usr/bin/promtool"].first { FileManager.default.fileExists(atPath: $0) }
        )
        let mongo = try TestServers.primaryMongo().uri
        let app = try await TaskRepositoryApp.makeApplication(environment: testServiceEnvironment(["MONGODB_URI": mongo]), logger: TestServers.logger)
        let text = try await app.testWhenReady(.live) { client in
            _ = try await client.execute(uri: "/health/ready", method: .get)
            _ = try await client.execute(uri: "/api/v1/tasks", method: .get)
            _ = try await client.execute(uri: "/api/v1/tasks", method: .get, headers: [.init("X-API-Key")!: testAPIKey])
            return try await client.execute(uri: "/metrics", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
        }
        #expect(text.contains("http_requests_total{"))
        #expect(text.contains(#"db_pool_connections{backend="mongodb""#))
        #expect(text.contains(#"db_operation_duration_seconds_bucket{backend="mongodb",operation="ping""#))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("metrics") + ".txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        process.standardInput = try FileHandle(forReadingFrom: file)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "promtool check metrics: \(report)")
    }
}
