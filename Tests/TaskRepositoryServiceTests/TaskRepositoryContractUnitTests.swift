import DatabaseLayer
import Testing

@testable import TaskRepositoryService

/// The repository contract against ``MemoryTaskRepository``, with no server: the same checks as on MongoDB.
@Suite struct TaskRepositoryContractUnitTests {
    /// Every contract check passes on the in-memory backend.
    @Test func memoryTaskRepository() async throws {
        try await TaskRepositoryContract(countsUpdatedDates: true, backend: "memory").exercise(MemoryTaskRepository())
    }
}
