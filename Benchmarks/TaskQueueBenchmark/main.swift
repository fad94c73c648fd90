// Claim-next + complete throughput: through task-repo-service over HTTP, and the same two findAndModify
// operations issued directly through DatabaseLayer/libmongoc, with the same concurrency, in one run.
// Usage: TaskQueueBenchmark <service-url> <mongodb-uri> <database> <tasks> <concurrency>
import AsyncHTTPClient
import DatabaseLayer
import Foundation
import Logging
import NIOCore
import NIOHTTP1

let arguments = CommandLine.arguments
guard arguments.count == 6, let taskCount = Int(arguments[4]), let concurrency = Int(arguments[5]) else {
    FileHandle.standardError.write(Data("usage: TaskQueueBenchmark <service-url> <mongodb-uri> <database> <tasks> <concurrency>\n".utf8))
    exit(2)
}
let serviceURL = arguments[1]
let apiKey = ProcessInfo.processInfo.environment["API_KEY"] ?? "bench_api_key_123"
var logger = Logger(label: "bench")
logger.logLevel = .warning

let pool = try MongoClientPool(
    configuration: MongoConfiguration(uri: arguments[2], database: arguments[3], maximumConnections: concurrency + 2),
    logger: logger
)
let tasks = try pool.collection("tasks")

/// A pending task in the service's stored shape (the service's own create path is not under test here).
func taskDocument(_ index: Int, now: Date) -> JSONObject {
    [
        "task_id": .string(UUID().uuidString.lowercased()), "task_type": "BENCH", "request": ["content": ["n": .int(Int64(index))]],
        "template": [:], "tags": [:], "priority": 0, "run_after": .date(now), "max_attempts": 3, "status": "pending", "attempts": 0,
        "attempts_remaining": 3, "errors": [], "created_at": .date(now), "updated_at": .date(now),
    ]
}

func seed() async throws {
    _ = try await tasks.deleteMany([:])
    let now = Date().addingTimeInterval(-1)
    for start in stride(from: 0, to: taskCount, by: 500) {
        try await tasks.insertMany((start..<min(start + 500, taskCount)).map { taskDocument($0, now: now) })
    }
}

/// Runs `worker` on `concurrency` tasks until each returns false; returns operations (claim+complete pairs) per second.
func measure(_ worker: @escaping @Sendable (Int) async throws -> Bool) async throws -> (rate: Double, done: Int) {
    let start = ContinuousClock.now
    let done = try await withThrowingTaskGroup(of: Int.self) { group in
        for index in 0..<concurrency {
            group.addTask {
                var count = 0
                while try await worker(index) { count += 1 }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    return (Double(done) / (ContinuousClock.now - start).seconds, done)
}

// Direct: the service's claim-next and complete as it issues them (tenant-less scope): claim-next is one sorted
// findAndModify on due pending tasks and, only when none is due, a second one on expired leases.
try await seed()
let direct = try await measure { worker in
    let now = Date()
    let branches: [JSONObject] = [
        ["tenant_id": ["$exists": false], "status": ["$eq": "pending"], "run_after": ["$lte": .date(now)]],
        ["tenant_id": ["$exists": false], "status": ["$eq": "claimed"], "lease_expires_at": ["$lte": .date(now)], "attempts_remaining": ["$gt": 0]],
    ]
    let token = UUID().uuidString.lowercased()
    let claim: JSONObject = [
        "$set": [
            "status": "claimed", "claimed_by": .string("w\(worker)"), "claim_token": .string(token),
            "lease_expires_at": .date(now.addingTimeInterval(60)), "updated_at": .date(now),
        ],
        "$inc": ["attempts": 1, "attempts_remaining": -1],
    ]
    var found: JSONObject?
    for branch in branches where found == nil {
        found = try await tasks.findOneAndUpdate(branch, claim, sort: ["priority": -1, "created_at": 1, "task_id": 1], projection: ["_id": 0])
    }
    guard let claimed = found else { return false }
    let completed = try await tasks.findOneAndUpdate(
        [
            "tenant_id": ["$exists": false], "task_id": ["$eq": claimed["task_id"]!], "status": ["$eq": "claimed"],
            "claim_token": ["$eq": .string(token)],
        ],
        [
            "$set": ["status": "completed", "completed_at": .date(Date()), "updated_at": .date(Date())],
            "$unset": ["claim_token": "", "lease_expires_at": ""],
        ],
        projection: ["_id": 0]
    )
    return completed != nil
}

// HTTP: the same two operations through the service.
try await seed()
let client = HTTPClient.shared
let http = try await measure { worker in
    var claim = HTTPClientRequest(url: "\(serviceURL)/api/v1/tasks/claim")
    claim.method = .POST
    claim.headers.add(name: "X-API-Key", value: apiKey)
    claim.headers.add(name: "Content-Type", value: "application/json")
    claim.body = .bytes(ByteBuffer(string: #"{"worker_id":"w\#(worker)","lease_seconds":60}"#))
    let response = try await client.execute(claim, timeout: .seconds(30))
    let body = try await response.body.collect(upTo: 1 << 20)
    guard response.status == .ok else { return false }
    let task = try JSONValue(jsonText: String(buffer: body)).objectValue ?? [:]
    guard let id = task["task_id"]?.stringValue, let token = task["claim_token"]?.stringValue else { return false }
    var complete = HTTPClientRequest(url: "\(serviceURL)/api/v1/tasks/\(id)/complete")
    complete.method = .POST
    complete.headers.add(name: "X-API-Key", value: apiKey)
    complete.headers.add(name: "Content-Type", value: "application/json")
    complete.body = .bytes(ByteBuffer(string: #"{"claim_token":"\#(token)"}"#))
    let done = try await client.execute(complete, timeout: .seconds(30))
    _ = try await done.body.collect(upTo: 1 << 20)
    return done.status == .ok
}

await pool.shutdown()
let result: JSONObject = [
    "tasks": .int(Int64(taskCount)), "concurrency": .int(Int64(concurrency)),
    "direct_pairs_per_second": .double((direct.rate * 10).rounded() / 10), "direct_completed": .int(Int64(direct.done)),
    "http_pairs_per_second": .double((http.rate * 10).rounded() / 10), "http_completed": .int(Int64(http.done)),
    "http_to_direct_ratio": .double((http.rate / direct.rate * 1000).rounded() / 1000),
]
print(result.jsonString)
