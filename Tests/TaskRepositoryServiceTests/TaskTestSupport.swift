import DatabaseLayer
import DatabaseLayerTesting
import Foundation
import HummingbirdTesting
import Testing

@testable import TaskRepositoryService

extension TestReply {
    /// The `task_id` of a task answer.
    var taskID: String? { self["task_id"]?.stringValue }
    /// The `claim_token` of a claim or heartbeat answer.
    var token: String? { self["claim_token"]?.stringValue }
    /// The `task_id`s of a list page, in order.
    var itemIDs: [String] { self.items.compactMap { $0["task_id"]?.stringValue } }
}

/// A task service on its own database of the faithful MongoDB server (leases and backoff need dates that
/// compare, which nx-27017 lacks), dropped afterwards whatever the test did.
func withTaskService<Value: Sendable>(
    retryBaseMilliseconds: Int = 300,
    maxPageSize: Int = 50,
    _ setup: TestingSetup = .router,
    _ body: @escaping @Sendable (any TestClientProtocol, MongoCollection) async throws -> Value
) async throws -> Value {
    try await TestDatabases.withMongoDatabase(on: try TestServers.faithfulMongo(), prefix: "tasks") { database, pool in
        let app = try await TaskRepositoryApp.makeApplication(
            environment: testServiceEnvironment([
                "MONGODB_URI": try TestServers.faithfulMongo().uri, "MONGODB_DATABASE": database,
                "TASK_RETRY_BASE_MS": String(retryBaseMilliseconds), "TASK_RETRY_MAX_MS": String(retryBaseMilliseconds * 4),
                "MAX_PAGE_SIZE": String(maxPageSize),
            ]),
            logger: TestServers.logger
        )
        let collection = try pool.collection("tasks")
        return try await app.testWhenReady(setup) { client in try await body(client, collection) }
    }
}

/// The seed's example task.
let sampleTask: JSONValue = [
    "task_type": "GENERATIVE",
    "request": ["content": ["text": "Generate a response to this query"], "metadata": ["user_id": "user123"]],
    "template": ["service_type": "GENERATIVE", "parameters": ["model": "gpt-4", "max_tokens": 1024]],
    "tags": ["service": "generative-service", "source": "agent-api"],
]
