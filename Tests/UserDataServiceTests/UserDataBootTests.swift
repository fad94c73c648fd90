import DatabaseLayer
import DatabaseLayerTesting
import Testing
@testable import UserDataService

@Suite(.enabled(if: TestServers.mongoEnabled && TestServers.postgresEnabled, TestServers.skipReason), .serialized)
struct UserDataBootIntegrationTests {
    @Test func reportsItsStores() async throws {
        // The startup migration grants to user_data_app and refuses to run without it; this also creates the two
        // databases (once per process, as the other suites need user_extensions concurrently).
        try await UserDataRoles.ensure()
        let postgres = try TestServers.postgres()
        let report = try await ServiceBoot.readiness(
            UserDataApp.makeApplication(
                environment: testServiceEnvironment([
                    "USER_DB_HOST": postgres.host, "USER_DB_PORT": String(postgres.port), "USER_DB_USER": postgres.user,
                    "USER_DB_NAME": "system_users", "POSTGRES_URI": try ServiceBoot.postgresURI(database: "user_extensions"),
                    "MONGODB_URI": ServiceBoot.uri(try TestServers.primaryMongo(), database: "user_insights"), "USER_SERVICE_PORT": "0",
                ]), logger: TestServers.logger))
        #expect(Set(report.checks.keys).isSuperset(of: ["postgres:system_users", "postgres:user_extensions", "mongodb:user_insights"]))
    }
}

@Suite struct UserDataConfigurationUnitTests {
    /// The shared middleware verifies user tokens here too (stores unreachable: authentication comes first).
    @Test func bearerTokensAreVerified() async throws {
        try await ServiceBoot.checkBearerTokens(path: "/api/v1/users") { extra in
            try await UserDataApp.makeApplication(
                environment: testServiceEnvironment(
                    [
                        "USER_DB_HOST": "127.0.0.1", "USER_DB_PORT": "1", "USER_DB_USER": "u", "USER_DB_NAME": "system_users",
                        "POSTGRES_URI": "postgresql://u@127.0.0.1:1/user_extensions", "MONGODB_URI": "mongodb://127.0.0.1:1/user_insights",
                    ].merging(extra) { $1 }), logger: TestServers.logger)
        } validStatus: { _ in true }
    }

    @Test func missingRequiredVariableNamesIt() async throws {
        do {
            _ = try await UserDataApp.makeApplication(
                environment: ServiceEnvironment(["API_KEY": testAPIKey, "USER_DB_HOST": "h"]), logger: TestServers.logger)
            Issue.record("expected a configuration error")
        } catch let error as ConfigurationError {
            #expect(error.variable == "USER_DB_USER")
        }
    }
}
