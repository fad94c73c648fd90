import DatabaseLayer
import DatabaseLayerTesting
import Testing

@testable import TaskRepositoryService

/// The repository contract against MongoDB, on every MongoDB stand-in the test run started.
@Suite(.enabled(if: TestServers.mongoEnabled, TestServers.skipReason))
struct TaskRepositoryContractIntegrationTests {
    /// The whole contract against one MongoDB stand-in, on a fresh database.
    @Test(arguments: TestServers.mongoServers) func mongoTaskRepository(server: MongoTestServer) async throws {
        try await TestDatabases.withMongoDatabase(on: server, prefix: "taskcontract") { _, pool in
            // A backoff of 5-40 s: long enough that "not due yet" cannot pass by accident, and the contract moves
            // `now` rather than sleeping through it.
            let repository = MongoTaskRepository(collection: try pool.collection("tasks"), retry: RetryPolicy(base: .seconds(10), cap: .seconds(40)))
            try await repository.ensureIndexes()
            // nx-27017 0.8.1 is the one stand-in whose `count` cannot compare dates written by update operators
            // (see TaskRepositoryContract.countingUpdatedDates): only that check becomes a known issue there.
            let contract = TaskRepositoryContract(countsUpdatedDates: !server.name.hasPrefix("nx-"), backend: server.name)
            try await contract.exercise(repository)
        }
    }
}
