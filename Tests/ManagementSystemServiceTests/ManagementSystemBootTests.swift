import DatabaseLayer
import DatabaseLayerTesting
@testable import ManagementSystemService
import Testing

@Suite(.enabled(if: TestServers.mongoEnabled && TestServers.postgresEnabled, TestServers.skipReason), .serialized)
struct ManagementSystemBootIntegrationTests {
    @Test func reportsItsStores() async throws {
        try await TestDatabases.ensurePostgresDatabase("management_system_repository")
        let postgres = try TestServers.postgres()
        let mongo = try TestServers.primaryMongo().uri
        let port = mongo.split(separator: ":").last.map { $0.prefix(while: \.isNumber) }.map(String.init) ?? "27017"
        let report = try await ServiceBoot.readiness(
            ManagementSystemApp.makeApplication(
                environment: testServiceEnvironment([
                    "SYSTEM_DB_HOST": postgres.host, "SYSTEM_DB_PORT": String(postgres.port), "SYSTEM_DB_USER": postgres.user,
                    "SYSTEM_DB_NAME": "management_system_repository", "CONFIG_DB_HOST": "127.0.0.1", "CONFIG_DB_PORT": port,
                ]), logger: TestServers.logger))
        #expect(Set(report.checks.keys).isSuperset(of: ["postgres:management_system_repository", "mongodb:config_db"]))
        if TestServers.redisEnabled { #expect(report.checks["redis"] != nil) }
    }
}

@Suite struct ManagementSystemConfigurationUnitTests {
    /// The shared middleware verifies user tokens here too (stores unreachable: authentication comes first).
    @Test func bearerTokensAreVerified() async throws {
        try await ServiceBoot.checkBearerTokens(path: "/api/v1/systems") { extra in
            try await ManagementSystemApp.makeApplication(
                environment: testServiceEnvironment(
                    [
                        "SYSTEM_DB_HOST": "127.0.0.1", "SYSTEM_DB_PORT": "1", "SYSTEM_DB_USER": "u", "SYSTEM_DB_NAME": "d",
                        "CONFIG_DB_HOST": "127.0.0.1", "CONFIG_DB_PORT": "1",
                    ].merging(extra) { $1 }), logger: TestServers.logger)
        } validStatus: { _ in true }
    }

    @Test func missingConfigHostNamesIt() async throws {
        do {
            _ = try await ManagementSystemApp.makeApplication(
                environment: ServiceEnvironment(["API_KEY": testAPIKey, "SYSTEM_DB_HOST": "h", "SYSTEM_DB_USER": "u", "SYSTEM_DB_NAME": "d"]),
                logger: TestServers.logger)
            Issue.record("expected a configuration error")
        } catch let error as ConfigurationError {
            #expect(error.variable == "CONFIG_DB_HOST")
        }
    }
}
