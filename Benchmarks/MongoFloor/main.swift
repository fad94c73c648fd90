// mongo-floor: the least a Swift HTTP server can spend per request on the task service's MongoDB data path, the
// floor that scripts/bench/mongo-path.sh compares task-repo-service with. Hummingbird's router, libmongoc called
// directly (BSON built with bson_append_*, replies written out by libbson as relaxed extended JSON), blocking calls
// on an NIOThreadPool sized like the service's pool. It sends the same queries, updates, sort and indexes as
// task-repo-service for GET by id, create, claim-next and complete, and skips everything else the service does
// (typed models, validation beyond presence, problem bodies, metrics, request ids, tenants). Create takes task_type,
// request, template, tags, priority and max_attempts, what the benchmark sends; run_after is always now and
// idempotency keys are not supported.
//
// Environment: PORT, HOST (127.0.0.1), API_KEY, MONGODB_URI, MONGODB_DATABASE (task_repository), MONGO_POOL_MAX (10);
// CONCURRENCY_EXECUTOR (event-loops, as the service; or default); FLOOR_INLINE=1 makes each libmongoc call on the
// thread that runs the handler instead of the blocking pool. That blocks an event loop for a whole store round trip,
// which no production server may do; the benchmark runs it only to show what the hop to the pool costs.
import CMongoC
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

let environment = ProcessInfo.processInfo.environment
let collectionName = "tasks"
let runsInline = environment["FLOOR_INLINE"] == "1"
if environment["CONCURRENCY_EXECUTOR"] != "default" {
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}

// MARK: - BSON helpers

/// An owned `bson_t` (from `bson_new`, `bson_new_from_json` or `bson_new_from_data`), destroyed with the wrapper.
final class OwnedBSON: @unchecked Sendable {
    let pointer: OpaquePointer

    /// An empty document.
    init() { self.pointer = bson_new()! }

    /// Adopts a document libbson allocated.
    init(adopting pointer: OpaquePointer) { self.pointer = pointer }

    /// Parses a JSON request body; nil when it is not a JSON object.
    convenience init?(json buffer: ByteBuffer) {
        var error = bson_error_t()
        let parsed = buffer.withUnsafeReadableBytes { bytes -> OpaquePointer? in
            guard let base = bytes.baseAddress else { return nil }
            return bson_new_from_json(base.assumingMemoryBound(to: UInt8.self), bytes.count, &error)
        }
        guard let parsed else { return nil }
        self.init(adopting: parsed)
    }

    deinit { bson_destroy(self.pointer) }

    /// The document as relaxed extended JSON, copied straight into a response buffer.
    var json: ByteBuffer { BSON.json(self.pointer) }
}

/// Building and reading BSON with libbson's own calls; over-aligned C structs get heap storage from the shim's sizes.
enum BSON {
    /// Runs `body` with storage for one uninitialised `bson_t` (a child document being appended, or a reply).
    static func withDocumentStorage<Result>(_ body: (OpaquePointer) throws -> Result) rethrows -> Result {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: CMongoC_bson_size(), alignment: CMongoC_bson_alignment())
        defer { raw.deallocate() }
        return try body(OpaquePointer(raw))
    }

    /// Runs `body` with storage for one `bson_iter_t`.
    static func withIterator<Result>(_ body: (OpaquePointer) throws -> Result) rethrows -> Result {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: CMongoC_bson_iter_size(), alignment: CMongoC_bson_iter_alignment())
        defer { raw.deallocate() }
        return try body(OpaquePointer(raw))
    }

    /// Appends the subdocument `key`, filled by `body`, in place (no intermediate document to copy).
    static func document(_ parent: OpaquePointer, _ key: String, _ body: (OpaquePointer) -> Void) {
        self.withDocumentStorage { child in
            _ = bson_append_document_begin(parent, key, -1, child)
            body(child)
            _ = bson_append_document_end(parent, child)
        }
    }

    /// Appends the array `key`, filled by `body` (which must use the keys "0", "1", …).
    static func array(_ parent: OpaquePointer, _ key: String, _ body: (OpaquePointer) -> Void) {
        self.withDocumentStorage { child in
            _ = bson_append_array_begin(parent, key, -1, child)
            body(child)
            _ = bson_append_array_end(parent, child)
        }
    }

    /// Appends `{key: {op: value}}` with a string value, the shape of every equality the service sends.
    static func condition(_ parent: OpaquePointer, _ key: String, _ op: String, string value: String) {
        self.document(parent, key) { _ = bson_append_utf8($0, op, -1, value, Int32(value.utf8.count)) }
    }

    /// Appends `{key: {op: date}}`.
    static func condition(_ parent: OpaquePointer, _ key: String, _ op: String, dateMilliseconds value: Int64) {
        self.document(parent, key) { _ = bson_append_date_time($0, op, -1, value) }
    }

    /// Appends `{key: {op: value}}` with an int32 value.
    static func condition(_ parent: OpaquePointer, _ key: String, _ op: String, int value: Int32) {
        self.document(parent, key) { _ = bson_append_int32($0, op, -1, value) }
    }

    /// The tenant-less scope of the service (`{"tenant_id": {"$exists": false}}`): the benchmark sends no tenant.
    static func appendScope(_ document: OpaquePointer) {
        self.document(document, "tenant_id") { _ = bson_append_bool($0, "$exists", -1, false) }
    }

    /// Relaxed extended JSON of `document` in a new buffer.
    static func json(_ document: OpaquePointer) -> ByteBuffer {
        var length = 0
        guard let text = bson_as_relaxed_extended_json(document, &length) else { return ByteBuffer(string: "{}") }
        defer { bson_free(text) }
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        buffer.writeBytes(UnsafeRawBufferPointer(start: text, count: length))
        return buffer
    }

    /// The UTF-8 string at `key` of `document`, if it is one.
    static func string(_ document: OpaquePointer, _ key: String) -> String? {
        self.withIterator { iterator in
            guard bson_iter_init_find(iterator, document, key), bson_iter_type(iterator) == BSON_TYPE_UTF8 else { return nil }
            var length: UInt32 = 0
            guard let text = bson_iter_utf8(iterator, &length) else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: text, count: Int(length)), as: UTF8.self)
        }
    }

    /// The int32 at `key` of `document`, if it is one (JSON integers parse as int32 when they fit).
    static func int32(_ document: OpaquePointer, _ key: String) -> Int32? {
        self.withIterator { iterator in
            guard bson_iter_init_find(iterator, document, key), bson_iter_type(iterator) == BSON_TYPE_INT32 else { return nil }
            return bson_iter_int32(iterator)
        }
    }

    /// Copies the value at `key` of `source` (if present, and of `type` when given) into `target` under the same key.
    @discardableResult
    static func copy(_ key: String, from source: OpaquePointer, to target: OpaquePointer, type: bson_type_t? = nil) -> Bool {
        self.withIterator { iterator in
            guard bson_iter_init_find(iterator, source, key), type.map({ bson_iter_type(iterator) == $0 }) ?? true else { return false }
            return bson_append_iter(target, key, -1, iterator)
        }
    }

    /// The document under `value` in a findAndModify reply; nil when nothing matched (`value: null`).
    static func findAndModifyValue(_ reply: OpaquePointer) -> OwnedBSON? {
        self.withIterator { iterator in
            guard bson_iter_init_find(iterator, reply, "value"), bson_iter_type(iterator) == BSON_TYPE_DOCUMENT else { return nil }
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_document(iterator, &length, &data)
            guard let data, let copy = bson_new_from_data(data, Int(length)) else { return nil }
            return OwnedBSON(adopting: copy)
        }
    }
}

/// Wall-clock milliseconds since 1970, what BSON dates hold.
func nowMilliseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
}

/// A new lowercase UUID, as the service makes task ids and claim tokens.
func newUUID() -> String { UUID().uuidString.lowercased() }

// MARK: - Store

/// Why an operation gave no document, for the handler's status code.
enum FloorError: Error {
    case badRequest(String)
    case store(String)
}

/// libmongoc's thread-safe client pool plus the blocking threads that use it; one client per call, like the service.
final class FloorStore: @unchecked Sendable {
    let pool: OpaquePointer
    let database: String
    let threads: NIOThreadPool
    /// Built once and only read afterwards (libbson documents are safe to read from many threads).
    let queueOrder = OwnedBSON()
    let publicProjection = OwnedBSON()
    let claimerProjection = OwnedBSON()

    /// Connects lazily (libmongoc connects on first use); `size` clients and as many threads.
    init(uri: String, database: String, size: Int) throws {
        mongoc_init()
        var error = bson_error_t()
        guard let parsed = mongoc_uri_new_with_error(uri, &error) else { throw FloorError.store("invalid MONGODB_URI") }
        defer { mongoc_uri_destroy(parsed) }
        _ = mongoc_uri_set_option_as_int32(parsed, MONGOC_URI_MAXPOOLSIZE, Int32(size))
        _ = mongoc_uri_set_appname(parsed, "mongo-floor")
        guard let pool = mongoc_client_pool_new(parsed) else { throw FloorError.store("mongoc_client_pool_new failed") }
        _ = mongoc_client_pool_set_error_api(pool, Int32(MONGOC_ERROR_API_VERSION_2))
        self.pool = pool
        self.database = database
        self.threads = NIOThreadPool(numberOfThreads: size)
        self.threads.start()
        _ = bson_append_int32(self.queueOrder.pointer, "priority", -1, -1)
        _ = bson_append_int32(self.queueOrder.pointer, "created_at", -1, 1)
        _ = bson_append_int32(self.queueOrder.pointer, "task_id", -1, 1)
        // The service projects {_id: 0} and drops attempts_remaining (and, outside claims, claim_token) in Swift;
        // here the server drops them.
        for projection in [self.publicProjection, self.claimerProjection] {
            _ = bson_append_int32(projection.pointer, "_id", -1, 0)
            _ = bson_append_int32(projection.pointer, "attempts_remaining", -1, 0)
        }
        _ = bson_append_int32(self.publicProjection.pointer, "claim_token", -1, 0)
    }

    /// Runs `body` with a pooled client's collection on the blocking threads (or inline, with FLOOR_INLINE=1).
    func run<Result: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> Result) async throws -> Result {
        if runsInline { return try self.withCollection(body) }
        return try await self.threads.runIfActive { try self.withCollection(body) }
    }

    private func withCollection<Result>(_ body: (OpaquePointer) throws -> Result) throws -> Result {
        let client = mongoc_client_pool_pop(self.pool)!
        defer { mongoc_client_pool_push(self.pool, client) }
        let collection = mongoc_client_get_collection(client, self.database, collectionName)!
        defer { mongoc_collection_destroy(collection) }
        return try body(collection)
    }

    /// The service's four indexes, so the store does the same work for the floor as for the service.
    func ensureIndexes() async throws {
        let command = """
            {"createIndexes": "\(collectionName)", "indexes": [
              {"key": {"task_id": 1}, "name": "task_id_unique", "unique": true},
              {"key": {"tenant_id": 1, "status": 1, "priority": -1, "created_at": 1}, "name": "ready_queue"},
              {"key": {"status": 1, "lease_expires_at": 1}, "name": "expired_leases"},
              {"key": {"tenant_id": 1, "idempotency_key": 1}, "name": "tenant_idempotency_key", "unique": true,
               "partialFilterExpression": {"idempotency_key": {"$exists": true}}}]}
            """
        try await self.threads.runIfActive {
            guard let document = OwnedBSON(json: ByteBuffer(string: command)) else { throw FloorError.store("bad index command") }
            let client = mongoc_client_pool_pop(self.pool)!
            defer { mongoc_client_pool_push(self.pool, client) }
            var error = bson_error_t()
            let ok = withExtendedLifetime(document) {
                mongoc_client_command_simple(client, self.database, document.pointer, nil, nil, &error)
            }
            guard ok else { throw FloorError.store("createIndexes failed") }
        }
    }

    /// GET by id: one find with limit 1 and the projection.
    func get(_ taskID: String) async throws -> ByteBuffer? {
        try await self.run { collection in
            let filter = OwnedBSON()
            BSON.appendScope(filter.pointer)
            BSON.condition(filter.pointer, "task_id", "$eq", string: taskID)
            let options = OwnedBSON()
            _ = bson_append_document(options.pointer, "projection", -1, self.publicProjection.pointer)
            _ = bson_append_int64(options.pointer, "limit", -1, 1)
            return withExtendedLifetime((filter, options)) { () -> ByteBuffer? in
                let cursor = mongoc_collection_find_with_opts(collection, filter.pointer, options.pointer, nil)!
                defer { mongoc_cursor_destroy(cursor) }
                var document: OpaquePointer?
                guard mongoc_cursor_next(cursor, &document), let document else { return nil }
                return BSON.json(document)
            }
        }
    }

    /// POST create: the service's stored shape (client fields copied from the body as BSON), one insert.
    func create(_ body: OwnedBSON) async throws -> ByteBuffer {
        guard let taskType = BSON.string(body.pointer, "task_type"), !taskType.isEmpty else {
            throw FloorError.badRequest("task_type is required")
        }
        let maxAttempts = BSON.int32(body.pointer, "max_attempts") ?? 3
        return try await self.run { collection in
            let now = nowMilliseconds()
            // The answer is the stored document minus attempts_remaining: build that first, then copy and add it.
            let answer = OwnedBSON()
            let task = answer.pointer
            let taskID = newUUID()
            _ = bson_append_utf8(task, "task_id", -1, taskID, Int32(taskID.utf8.count))
            _ = bson_append_utf8(task, "task_type", -1, taskType, Int32(taskType.utf8.count))
            for key in ["request", "template", "tags"] where !BSON.copy(key, from: body.pointer, to: task, type: BSON_TYPE_DOCUMENT) {
                BSON.document(task, key) { _ in }
            }
            if !BSON.copy("priority", from: body.pointer, to: task, type: BSON_TYPE_INT32) {
                _ = bson_append_int32(task, "priority", -1, 0)
            }
            _ = bson_append_date_time(task, "run_after", -1, now)
            _ = bson_append_int32(task, "max_attempts", -1, maxAttempts)
            _ = bson_append_utf8(task, "status", -1, "pending", 7)
            _ = bson_append_int32(task, "attempts", -1, 0)
            BSON.array(task, "errors") { _ in }
            _ = bson_append_date_time(task, "created_at", -1, now)
            _ = bson_append_date_time(task, "updated_at", -1, now)
            let stored = OwnedBSON(adopting: bson_copy(task)!)
            _ = bson_append_int32(stored.pointer, "attempts_remaining", -1, maxAttempts)
            var error = bson_error_t()
            let ok = withExtendedLifetime(stored) { mongoc_collection_insert_one(collection, stored.pointer, nil, nil, &error) }
            guard ok else { throw FloorError.store("insert failed") }
            return answer.json
        }
    }

    /// Claim-next: the service's ready-queue filter, sort and claim update in one findAndModify; nil when none is ready.
    func claimNext(worker: String, leaseSeconds: Int32) async throws -> ByteBuffer? {
        try await self.run { collection in
            let now = nowMilliseconds()
            let filter = OwnedBSON()
            BSON.array(filter.pointer, "$or") { branches in
                BSON.document(branches, "0") { pending in
                    BSON.appendScope(pending)
                    BSON.condition(pending, "status", "$eq", string: "pending")
                    BSON.condition(pending, "run_after", "$lte", dateMilliseconds: now)
                }
                BSON.document(branches, "1") { expired in
                    BSON.appendScope(expired)
                    BSON.condition(expired, "status", "$eq", string: "claimed")
                    BSON.condition(expired, "lease_expires_at", "$lte", dateMilliseconds: now)
                    BSON.condition(expired, "attempts_remaining", "$gt", int: 0)
                }
            }
            let update = OwnedBSON()
            let token = newUUID()
            BSON.document(update.pointer, "$set") { set in
                _ = bson_append_utf8(set, "status", -1, "claimed", 7)
                _ = bson_append_utf8(set, "claimed_by", -1, worker, Int32(worker.utf8.count))
                _ = bson_append_utf8(set, "claim_token", -1, token, Int32(token.utf8.count))
                _ = bson_append_date_time(set, "lease_expires_at", -1, now + Int64(leaseSeconds) * 1000)
                _ = bson_append_date_time(set, "updated_at", -1, now)
            }
            BSON.document(update.pointer, "$inc") { increment in
                _ = bson_append_int32(increment, "attempts", -1, 1)
                _ = bson_append_int32(increment, "attempts_remaining", -1, -1)
            }
            return try self.findAndModify(collection, filter: filter, update: update, sort: self.queueOrder, fields: self.claimerProjection)
        }
    }

    /// Complete: the holder's filter and the service's completion update (with the body's `result`, any JSON value);
    /// nil when the token does not hold the task.
    func complete(_ taskID: String, token: String, body: OwnedBSON) async throws -> ByteBuffer? {
        try await self.run { collection in
            let now = nowMilliseconds()
            let filter = OwnedBSON()
            BSON.appendScope(filter.pointer)
            BSON.condition(filter.pointer, "task_id", "$eq", string: taskID)
            BSON.condition(filter.pointer, "status", "$eq", string: "claimed")
            BSON.condition(filter.pointer, "claim_token", "$eq", string: token)
            let update = OwnedBSON()
            BSON.document(update.pointer, "$set") { set in
                _ = bson_append_utf8(set, "status", -1, "completed", 9)
                _ = bson_append_date_time(set, "completed_at", -1, now)
                _ = bson_append_date_time(set, "updated_at", -1, now)
                _ = withExtendedLifetime(body) { BSON.copy("result", from: body.pointer, to: set) }
            }
            BSON.document(update.pointer, "$unset") { unset in
                _ = bson_append_utf8(unset, "claim_token", -1, "", 0)
                _ = bson_append_utf8(unset, "lease_expires_at", -1, "", 0)
            }
            return try self.findAndModify(collection, filter: filter, update: update, sort: nil, fields: self.publicProjection)
        }
    }

    /// One findAndModify returning the new document as JSON, or nil when the filter matched nothing.
    private func findAndModify(
        _ collection: OpaquePointer, filter: OwnedBSON, update: OwnedBSON, sort: OwnedBSON?, fields: OwnedBSON
    ) throws -> ByteBuffer? {
        let options = mongoc_find_and_modify_opts_new()!
        defer { mongoc_find_and_modify_opts_destroy(options) }
        _ = mongoc_find_and_modify_opts_set_flags(options, MONGOC_FIND_AND_MODIFY_RETURN_NEW)
        return try withExtendedLifetime((filter, update, sort, fields)) {
            _ = mongoc_find_and_modify_opts_set_update(options, update.pointer)
            _ = mongoc_find_and_modify_opts_set_fields(options, fields.pointer)
            if let sort { _ = mongoc_find_and_modify_opts_set_sort(options, sort.pointer) }
            return try BSON.withDocumentStorage { reply in
                var error = bson_error_t()
                let ok = mongoc_collection_find_and_modify_with_opts(collection, filter.pointer, options, reply, &error)
                // libmongoc initialises the reply even on failure.
                defer { bson_destroy(reply) }
                guard ok else { throw FloorError.store("findAndModify failed") }
                return BSON.findAndModifyValue(reply)?.json
            }
        }
    }
}

// MARK: - HTTP

let apiKey = environment["API_KEY"] ?? ""
let apiKeyField = HTTPField.Name("X-API-Key")!

/// A JSON response around `body`.
func json(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
}

/// A small error body; the floor has no problem+json machinery.
func failure(_ status: HTTPResponse.Status, _ message: String) -> Response {
    json(ByteBuffer(string: "{\"error\":\"\(message)\"}"), status: status)
}

/// Checks the key, reads the body as BSON where there is one, and maps the store's outcomes to statuses.
struct FloorRoutes: Sendable {
    let store: FloorStore

    /// The body as a BSON document, or nil when it is not a JSON object.
    static func body(_ request: Request) async throws -> OwnedBSON? {
        OwnedBSON(json: try await request.body.collect(upTo: 1 << 20))
    }

    /// The path's task id when it has a UUID's length (the filter compares it as a string, so that is enough).
    static func taskID(_ context: BasicRequestContext) -> String? {
        guard let raw = context.parameters.get("task_id"), raw.utf8.count == 36 else { return nil }
        return raw.lowercased()
    }

    /// Registers the four routes behind the key check.
    func add(to router: Router<BasicRequestContext>) {
        let store = self.store
        router.get("/health/ready") { _, _ in json(ByteBuffer(string: "{\"status\":\"pass\"}")) }
        let tasks = router.group("/api/v1/tasks").add(middleware: APIKeyMiddleware())
        tasks.post { request, _ -> Response in
            guard let body = try await Self.body(request) else { return failure(.badRequest, "body must be a JSON object") }
            do {
                return json(try await store.create(body), status: .created)
            } catch FloorError.badRequest(let message) {
                return failure(.badRequest, message)
            }
        }
        tasks.get("/:task_id") { _, context -> Response in
            guard let id = Self.taskID(context) else { return failure(.badRequest, "task_id must be a UUID") }
            guard let task = try await store.get(id) else { return failure(.notFound, "no such task") }
            return json(task)
        }
        tasks.post("/claim") { request, _ -> Response in
            guard let body = try await Self.body(request), let worker = BSON.string(body.pointer, "worker_id"),
                let lease = BSON.int32(body.pointer, "lease_seconds"), (1...3_600).contains(lease)
            else { return failure(.badRequest, "worker_id and lease_seconds are required") }
            guard let task = try await store.claimNext(worker: worker, leaseSeconds: lease) else { return Response(status: .noContent) }
            return json(task)
        }
        tasks.post("/:task_id/complete") { request, context -> Response in
            guard let id = Self.taskID(context), let body = try await Self.body(request),
                let token = BSON.string(body.pointer, "claim_token")
            else { return failure(.badRequest, "task_id and claim_token are required") }
            guard let task = try await store.complete(id, token: token.lowercased(), body: body) else {
                return failure(.conflict, "the claim token does not hold this task")
            }
            return json(task)
        }
    }
}

/// X-API-Key on every task route (a plain comparison: the floor measures cost, not hardening).
struct APIKeyMiddleware: RouterMiddleware {
    /// Answers 401 before the handler when the key is missing or wrong.
    func handle(
        _ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response
    ) async throws -> Response {
        guard request.headers[apiKeyField] == apiKey else { return failure(.unauthorized, "send X-API-Key") }
        return try await next(request, context)
    }
}

guard !apiKey.isEmpty, let uri = environment["MONGODB_URI"], let port = environment["PORT"].flatMap(Int.init) else {
    FileHandle.standardError.write(Data("mongo-floor: set API_KEY, MONGODB_URI and PORT\n".utf8))
    exit(2)
}
let store = try FloorStore(
    uri: uri, database: environment["MONGODB_DATABASE"] ?? "task_repository",
    size: environment["MONGO_POOL_MAX"].flatMap(Int.init) ?? 10)
try await store.ensureIndexes()
let router = Router(context: BasicRequestContext.self)
FloorRoutes(store: store).add(to: router)
// No logger given: Hummingbird's default reads LOG_LEVEL, and the floor logs nothing per request anyway.
let app = Application(
    router: router, configuration: .init(address: .hostname(environment["HOST"] ?? "127.0.0.1", port: port), serverName: "mongo-floor"))
try await app.runService()
