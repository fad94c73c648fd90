import DatabaseLayer
import DatabaseLayerTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import TaskRepositoryService

/// The input forms the OpenAPI description states exactly (openapi.yaml `RunAfter`, `Tags`, fail's `error`, the
/// nullable optional fields), so that the description and the service agree on every value, edges included.
@Suite struct TaskInputFormTests {
    /// Accepted `run_after` strings and the instant each denotes (offsets applied, fractions kept).
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2025-06-01T12:00:00Z", 1_748_779_200),
        ("2025-06-01T12:00:00.5Z", 1_748_779_200.5),
        ("2025-06-01T12:00:00.123456789Z", 1_748_779_200.123456789),
        ("2025-06-01T14:30:00+02:30", 1_748_779_200),
        ("2025-06-01T00:00:00-12:00", 1_748_779_200),
        ("2025-06-02T06:00:00+18:00", 1_748_779_200),
        ("2025-05-31T18:00:00-18:00", 1_748_779_200),
        ("2025-06-01T12:00:00-00:00", 1_748_779_200),
        ("2000-02-29T00:00:00Z", 951_782_400),
        ("1970-01-01T00:00:00+01:00", -3_600),
        ("2999-12-31T23:59:59Z", 32_503_679_999),
    ])
    func acceptedTimestamps(text: String, seconds: Double) throws {
        let date = try #require(TaskTimestamp.parse(text), "\(text)")
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_001, "\(text)")
    }

    /// Strings outside the documented form are refused, including RFC 3339 strings the pattern excludes.
    @Test(arguments: [
        "", "2025-06-01", "2025-06-01T12:00:00", "2025-06-01 12:00:00Z", "2025-06-01t12:00:00z", "2025-06-01T12:00Z",
        "1969-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
        "2025-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z", "2025-00-10T00:00:00Z",
        "2025-06-01T24:00:00Z", "2025-06-01T12:60:00Z", "2016-12-31T23:59:60Z",
        "2025-06-01T12:00:00.Z", "2025-06-01T12:00:00.1234567890Z",
        "2025-06-01T12:00:00+18:01", "2025-06-01T12:00:00-23:59", "2025-06-01T12:00:00+0200", "2025-06-01T12:00:00+02:60",
        "2025-06-01T12:00:00Z ", "２025-06-01T12:00:00Z",
    ])
    func refusedTimestamps(text: String) {
        #expect(TaskTimestamp.parse(text) == nil, "\(text)")
    }

    /// The calendar arithmetic is the proleptic Gregorian one Foundation uses after 1582.
    @Test func daysMatchFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for (year, month, day) in [(1970, 1, 1), (1999, 12, 31), (2000, 2, 29), (2024, 3, 1), (2100, 3, 1), (2999, 12, 31)] {
            let date = try #require(calendar.date(from: DateComponents(year: year, month: month, day: day)))
            #expect(TaskTimestamp.daysSinceEpoch(year: year, month: month, day: day) * 86_400 == Int(date.timeIntervalSince1970))
        }
    }

    /// Tag values and fail's `error` are limited in code points, as JSON Schema's `maxLength` counts them.
    @Test func textLimitsCountCodePoints() throws {
        #expect(try TaskValidation.tags(["a": String(repeating: "é", count: 256)]).count == 1, "512 bytes, 256 code points")
        #expect(try TaskValidation.tags(["a": String(repeating: "😀", count: 256)]).count == 1)
        #expect(throws: TaskError.self) { try TaskValidation.tags(["a": String(repeating: "é", count: 257)]) }
        // One code point plus a combining mark is one Character but two code points: the schema counts two.
        #expect(throws: TaskError.self) { try TaskValidation.tags(["a": String(repeating: "e\u{301}", count: 129)]) }
        let token = UUID().uuidString
        #expect(try FailRequest(claimToken: token, error: String(repeating: "ü", count: 4_096)).validated().error.unicodeScalars.count == 4_096)
        #expect(throws: TaskError.self) { try FailRequest(claimToken: token, error: String(repeating: "ü", count: 4_097)).validated() }
    }
}

extension TaskRoutesUnitTests {
    /// An explicit `null` for an optional field means the same as leaving it out, on every endpoint.
    @Test func nullMeansAbsent() async throws {
        try await self.withRoutes { client in
            let created = try await client.call(
                .post, "/api/v1/tasks",
                rawBody: #"""
                    {"task_type":"X","request":null,"template":null,"tags":null,"priority":null,"run_after":null,
                     "max_attempts":null,"idempotency_key":null}
                    """#)
            #expect(created.status == 201)
            #expect(created["priority"] == 0 && created["max_attempts"] == 3 && created["request"]?.objectValue?.isEmpty == true)
            #expect(created["idempotency_key"] == nil)
            let id = try #require(created.taskID)
            let runAfter = try #require(created["run_after"])

            let updated = try await client.call(
                .put, "/api/v1/tasks/\(id)",
                rawBody: #"{"priority":5,"request":null,"template":null,"tags":null,"run_after":null,"max_attempts":null}"#)
            #expect(updated.status == 200)
            #expect(updated["priority"] == 5 && updated["run_after"] == runAfter && updated["max_attempts"] == 3, "null fields unchanged")

            let claim = try await client.call(
                .post, "/api/v1/tasks/claim", rawBody: #"{"worker_id":"w","lease_seconds":30,"task_type":null,"service":null}"#)
            #expect(claim.status == 200 && claim.taskID == id)
            let token = try #require(claim.token)
            let failed = try await client.call(
                .post, "/api/v1/tasks/\(id)/fail", rawBody: #"{"claim_token":"\#(token)","error":"e","retryable":null}"#)
            #expect(failed.status == 200 && failed["status"] == "pending", "null retryable is the default, true")
        }
    }

    /// `run_after` outside the documented form is `400 invalid_body` on create and update; inside it, it is stored.
    @Test func runAfterForms() async throws {
        try await self.withRoutes { client in
            let created = try await client.call(.post, "/api/v1/tasks", rawBody: #"{"task_type":"X","run_after":"2030-01-01T02:00:00+02:00"}"#)
            #expect(created.status == 201)
            #expect(created["run_after"] == "2030-01-01T00:00:00.000Z")
            let id = try #require(created.taskID)
            for value in ["0001-01-01T00:00:00Z", "2030-01-01T00:00:00+19:00", "2030-01-01t00:00:00z", "2030-02-30T00:00:00Z"] {
                let create = try await client.call(.post, "/api/v1/tasks", rawBody: #"{"task_type":"X","run_after":"\#(value)"}"#)
                #expect(create.status == 400 && create.code == "invalid_body", "\(value)")
                let update = try await client.call(.put, "/api/v1/tasks/\(id)", rawBody: #"{"run_after":"\#(value)"}"#)
                #expect(update.status == 400 && update.code == "invalid_body", "\(value)")
            }
            let moved = try await client.call(.put, "/api/v1/tasks/\(id)", rawBody: #"{"run_after":"2031-06-01T12:00:00.25Z"}"#)
            #expect(moved.status == 200 && moved["run_after"] == "2031-06-01T12:00:00.250Z")
        }
    }
}
