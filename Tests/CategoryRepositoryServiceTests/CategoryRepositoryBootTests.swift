import DatabaseLayer
import DatabaseLayerTesting
import Testing

@testable import CategoryRepositoryService

@Suite(.enabled(if: TestServers.mongoEnabled, TestServers.skipReason))
struct CategoryRepositoryBootIntegrationTests {
    @Test func reportsItsStores() async throws {
        let report = try await ServiceBoot.readiness(
            CategoryRepositoryApp.makeApplication(
                environment: testServiceEnvironment(["MONGODB_URI": ServiceBoot.uri(try TestServers.primaryMongo(), database: "category_repository")]
                ),
                logger: TestServers.logger))
        #expect(Set(report.checks.keys).isSuperset(of: ["mongodb:category_repository"]))
    }
}

@Suite struct CategoryRepositoryConfigurationUnitTests {
    /// The shared middleware verifies user tokens here too (stores unreachable: authentication comes first).
    @Test func bearerTokensAreVerified() async throws {
        try await ServiceBoot.checkBearerTokens(path: "/api/v1/categories") { extra in
            try await CategoryRepositoryApp.makeApplication(
                environment: testServiceEnvironment(["MONGODB_URI": "mongodb://127.0.0.1:1/category_repository"].merging(extra) { $1 }),
                logger: TestServers.logger)
        } validStatus: { _ in true }
    }

    @Test func invalidCollectionNameIsRefused() async throws {
        do {
            _ = try await CategoryRepositoryApp.makeApplication(
                environment: ServiceEnvironment([
                    "API_KEY": testAPIKey, "MONGODB_URI": "mongodb://127.0.0.1:1", "MONGODB_FACTORS_COLLECTION": "system.$bad",
                ]), logger: TestServers.logger)
            Issue.record("expected a configuration error")
        } catch let error as ConfigurationError {
            #expect(error.variable == "MONGODB_FACTORS_COLLECTION")
        }
    }
}
