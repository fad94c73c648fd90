import DatabaseLayer
import Foundation
import HTTPTypes
import Testing

@testable import TaskRepositoryService

/// The server-free parts of the task service: response shape, body rules, error mapping, retry delays, queries.
@Suite struct TaskUnitTests {
    /// A claimed task with every optional field set.
    static func claimedTask() throws -> TaskItem {
        var task = try CreateTaskRequest(taskType: "JOB", idempotencyKey: "k").task(
            tenant: TenantID("acme"),
            now: Date(timeIntervalSince1970: 1_700_000_000)
        )
        task.status = .claimed
        task.claimToken = UUID().uuidString.lowercased()
        task.claimedBy = "w"
        task.leaseExpiresAt = Date(timeIntervalSince1970: 1_700_000_030)
        return task
    }

    /// Encodes `response` the way the service does (ISO 8601 dates) and parses it back.
    static func encoded(_ response: TaskResponse) throws -> JSONObject {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = ISO8601.encodingStrategy
        return try #require(try JSONValue(jsonText: String(decoding: try encoder.encode(response), as: UTF8.self)).objectValue)
    }

    /// The response omits attempts_remaining and shows the token only to the holder.
    @Test func responsesHideTheCounterAndShowTheTokenOnlyToTheHolder() throws {
        let task = try Self.claimedTask()
        let plain = try Self.encoded(TaskResponse(task))
        #expect(plain["attempts_remaining"] == nil)
        #expect(plain["claim_token"] == nil)
        #expect(plain["task_id"]?.stringValue == task.taskID)
        #expect(plain["lease_expires_at"]?.stringValue == "2023-11-14T22:13:50.000Z", "dates are ISO 8601 strings")
        let holder = try Self.encoded(TaskResponse(task, includesClaimToken: true))
        #expect(holder["claim_token"]?.stringValue == task.claimToken)
        #expect(holder["attempts_remaining"] == nil)
        // Every stored field but the hidden ones reaches the client: nothing is listed twice to fall out of step.
        #expect(Set(holder.keys) == TaskItem.allKeys.subtracting(["attempts_remaining", "result", "completed_at"]))
    }

    /// Each body violation gets its own code: read_only_field, unknown_field, invalid_key.
    @Test(arguments: [
        (#"{"task_type":"X","status":"completed"}"#, "read_only_field"),
        (#"{"task_type":"X","attempts_remaining":9}"#, "read_only_field"),
        (#"{"task_type":"X","colour":"red"}"#, "unknown_field"),
        (#"{"task_type":"X","request":{"$where":"1"}}"#, "invalid_key"),
        (#"{"task_type":"X","request":{"a":[{"b.c":1}]}}"#, "invalid_key"),
    ])
    func createBodyRules(body: String, code: String) throws {
        let object = try #require(try JSONValue(jsonText: body).objectValue)
        #expect(throws: APIError.self) { try CreateTaskRequest.rules.check(object) }
        do { try CreateTaskRequest.rules.check(object) } catch { #expect(error.code == code, "\(body)") }
    }

    /// Update bodies may not set fields fixed at creation.
    @Test func updateRulesTreatCreationOnlyFieldsAsServerOwned() throws {
        #expect(TaskChanges.rules.serverOwned.isSuperset(of: ["task_type", "idempotency_key", "status", "task_id"]))
        #expect(TaskChanges.rules.allowed == ["request", "template", "tags", "priority", "run_after", "max_attempts"])
        #expect(CreateTaskRequest.rules.allowed.isDisjoint(with: CreateTaskRequest.rules.serverOwned))
    }

    /// Every TaskError case has its status and stable code.
    @Test(arguments: [
        (TaskError.notFound(taskID: "x"), HTTPResponse.Status.notFound, "not_found"), (.conflict("c"), .conflict, "conflict"),
        (.invalidInput("i"), .badRequest, "invalid_input"), (.invalidQuery("q"), .badRequest, "invalid_query"),
        (.invalidTaskID, .badRequest, "invalid_task_id"), (.invalidClaimToken, .badRequest, "invalid_claim_token"),
    ])
    func errorsMapToProblems(error: TaskError, status: HTTPResponse.Status, code: String) {
        #expect(error.status == status)
        #expect(error.problemCode == code)
        #expect(!error.problemDetail.isEmpty)
    }

    /// Value checks throw the TaskError naming the field.
    @Test func validationNamesTheField() throws {
        #expect(throws: TaskError.invalidInput("lease_seconds must be between 1 and 3600.")) {
            try ClaimRequest(workerID: "w", leaseSeconds: 0).validated()
        }
        #expect(throws: TaskError.invalidClaimToken) { try HeartbeatRequest(claimToken: "x", leaseSeconds: 5).validated() }
        #expect(throws: TaskError.invalidTaskID) { try TaskValidation.taskID("nope") }
        // Foundation's parser read this as ff345678-…: another task than the one the client named.
        #expect(throws: TaskError.invalidTaskID) { try TaskValidation.taskID("-1345678-1234-1234-1234-123456789abc") }
        #expect(throws: TaskError.invalidClaimToken) {
            try HeartbeatRequest(claimToken: "+2345678-1234-1234-1234-123456789abc", leaseSeconds: 5).validated()
        }
        #expect(try TaskValidation.taskID("0123ABCD-EF01-4567-89AB-CDEF01234567") == "0123abcd-ef01-4567-89ab-cdef01234567")
        #expect(throws: TaskError.self) { try FailRequest(claimToken: UUID().uuidString, error: "").validated() }
        #expect(try HeartbeatRequest(claimToken: "AAAAAAAA-AAAA-AAAA-AAAA-AAAAAAAAAAAA", leaseSeconds: 5).validated().claimToken.hasPrefix("aaaa"))
    }

    /// The list query parses status and filters and clamps the limit.
    @Test func listQuery() throws {
        let query = try TaskListQuery(query: ["status": "claimed", "task_type": "JOB", "limit": "500"], maxPageSize: 50)
        #expect(query.status == .claimed && query.filter.taskType == "JOB" && query.page.limit == 50, "limit clamped")
        #expect(throws: TaskError.invalidQuery("status must be one of pending, claimed, completed, failed.")) {
            try TaskListQuery(query: ["status": "running"], maxPageSize: 50)
        }
    }

    /// Delays double per attempt, stay within [half, full] and respect the cap.
    @Test func retryDelaysGrowAndStayCapped() {
        let policy = RetryPolicy(base: .seconds(2), cap: .seconds(10))
        for attempt in 1...40 {
            let full = min(10, 2 * pow(2, Double(min(attempt - 1, 30))))
            let delay = policy.delay(afterAttempt: attempt).seconds
            #expect(delay >= full / 2 - 0.001 && delay <= full + 0.001, "attempt \(attempt)")
        }
    }
}
