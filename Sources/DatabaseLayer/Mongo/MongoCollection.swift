internal import CMongoC
import Foundation

/// Options for ``MongoCollection/find(_:options:)``.
public struct MongoFindOptions: Sendable {
    /// Sort specification, in priority order (`["priority": -1, "created_at": 1]`).
    public var sort: JSONObject?
    /// Documents to skip.
    public var skip: Int?
    /// Maximum documents to return.
    public var limit: Int?
    /// Fields to include or exclude.
    public var projection: JSONObject?

    /// Creates options.
    public init(sort: JSONObject? = nil, skip: Int? = nil, limit: Int? = nil, projection: JSONObject? = nil) {
        self.sort = sort
        self.skip = skip
        self.limit = limit
        self.projection = projection
    }

    var document: JSONObject {
        var options = JSONObject()
        if let sort = self.sort { options["sort"] = .object(sort) }
        if let skip = self.skip, skip > 0 { options["skip"] = .int(Int64(skip)) }
        if let limit = self.limit, limit > 0 { options["limit"] = .int(Int64(limit)) }
        if let projection = self.projection { options["projection"] = .object(projection) }
        return options
    }
}

/// The outcome of an update.
public struct MongoUpdateResult: Sendable, Equatable {
    /// Documents the filter matched.
    public var matchedCount: Int
    /// Documents changed.
    public var modifiedCount: Int
    /// The `_id` of an upserted document.
    public var upsertedID: JSONValue?
}

/// An index to ensure.
public struct MongoIndex: Sendable {
    /// Index name.
    public var name: String
    /// Keys in order with direction (1 / -1).
    public var keys: JSONObject
    /// Whether values must be unique.
    public var unique: Bool
    /// Only documents matching this filter are indexed (e.g. `{"idempotency_key": {"$exists": true}}`).
    public var partialFilter: JSONObject?
    /// TTL: documents expire this many seconds after the indexed date.
    public var expireAfterSeconds: Int?

    /// Creates an index description.
    public init(name: String, keys: JSONObject, unique: Bool = false, partialFilter: JSONObject? = nil, expireAfterSeconds: Int? = nil) {
        self.name = name
        self.keys = keys
        self.unique = unique
        self.partialFilter = partialFilter
        self.expireAfterSeconds = expireAfterSeconds
    }

    var document: JSONObject {
        var index: JSONObject = ["key": .object(self.keys), "name": .string(self.name)]
        if self.unique { index["unique"] = true }
        if let filter = self.partialFilter { index["partialFilterExpression"] = .object(filter) }
        if let seconds = self.expireAfterSeconds { index["expireAfterSeconds"] = .int(Int64(seconds)) }
        return index
    }
}

/// One collection. Every operation runs its blocking libmongoc call on the pool's threads.
public struct MongoCollection: Sendable {
    let pool: MongoClientPool
    /// Database name (validated).
    public let database: String
    /// Collection name (validated).
    public let name: String

    private func withCollection<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (OpaquePointer) throws -> Result
    ) async throws -> Result {
        let database = self.database
        let name = self.name
        return try await self.pool.withClient(operation: operation) { client in
            let collection = mongoc_client_get_collection(client, database, name)!
            defer { mongoc_collection_destroy(collection) }
            return try body(collection)
        }
    }

    /// Inserts one document given as an object (literals included); see the generic overload.
    public func insertOne(_ document: JSONObject) async throws {
        try await self.insertOne(encoding: document)
    }

    /// Inserts one document, encoded straight to BSON (a ``JSONObject`` or any `Encodable` that encodes as a
    /// keyed container; dates become BSON dates, absent optionals are left out); a duplicate unique key throws
    /// ``DatabaseError/Code/conflict``.
    public func insertOne(_ document: some Encodable & Sendable) async throws {
        try await self.insertOne(encoding: document)
    }

    private func insertOne(encoding document: some Encodable & Sendable) async throws {
        try await self.withCollection("insert") { collection in
            let bson = try BSONHandle(encoding: document)
            var error = bson_error_t()
            let ok = withExtendedLifetime(bson) { mongoc_collection_insert_one(collection, bson.pointer, nil, nil, &error) }
            guard ok else { throw MongoErrors.map(error, operation: "insert") }
        }
    }

    /// Inserts objects (literals included) in order, stopping at the first failure.
    public func insertMany(_ documents: [JSONObject]) async throws {
        try await self.insertMany(encoding: documents)
    }

    /// Inserts documents in order, stopping at the first failure.
    public func insertMany<Document: Encodable & Sendable>(_ documents: [Document]) async throws {
        try await self.insertMany(encoding: documents)
    }

    private func insertMany<Document: Encodable & Sendable>(encoding documents: [Document]) async throws {
        guard !documents.isEmpty else { return }
        try await self.withCollection("insert") { collection in
            let handles = try documents.map { document in try BSONHandle(encoding: document) }
            var pointers: [OpaquePointer?] = handles.map(\.pointer)
            var error = bson_error_t()
            let ok = withExtendedLifetime(handles) {
                pointers.withUnsafeMutableBufferPointer { buffer in
                    mongoc_collection_insert_many(collection, buffer.baseAddress, buffer.count, nil, nil, &error)
                }
            }
            guard ok else { throw MongoErrors.map(error, operation: "insert") }
        }
    }

    /// Documents matching `filter`, with sort, skip, limit and projection.
    public func find(_ filter: JSONObject = [:], options: MongoFindOptions = .init()) async throws -> [JSONObject] {
        try await self.find(filter, options: options, as: JSONObject.self)
    }

    /// Documents matching `filter`, each decoded as `T` straight from its BSON on the pool's thread.
    public func find<T: Decodable & Sendable>(_ filter: JSONObject = [:], options: MongoFindOptions = .init(), as type: T.Type) async throws -> [T] {
        try await self.withCollection("find") { collection in
            let filterDocument = try BSONHandle(filter)
            let optionsDocument = try BSONHandle(options.document)
            return try withExtendedLifetime((filterDocument, optionsDocument)) {
                let cursor = mongoc_collection_find_with_opts(collection, filterDocument.pointer, optionsDocument.pointer, nil)!
                defer { mongoc_cursor_destroy(cursor) }
                return try Self.drain(cursor, operation: "find", as: T.self)
            }
        }
    }

    /// The first document matching `filter`, if any.
    public func findOne(_ filter: JSONObject, projection: JSONObject? = nil) async throws -> JSONObject? {
        try await self.findOne(filter, projection: projection, as: JSONObject.self)
    }

    /// The first document matching `filter` decoded as `T`, if any.
    public func findOne<T: Decodable & Sendable>(_ filter: JSONObject, projection: JSONObject? = nil, as type: T.Type) async throws -> T? {
        try await self.find(filter, options: .init(limit: 1, projection: projection), as: T.self).first
    }

    /// The number of documents matching `filter`.
    public func count(_ filter: JSONObject = [:]) async throws -> Int {
        try await self.withCollection("count") { collection in
            let filterDocument = try BSONHandle(filter)
            var error = bson_error_t()
            let count = withExtendedLifetime(filterDocument) {
                mongoc_collection_count_documents(collection, filterDocument.pointer, nil, nil, nil, &error)
            }
            guard count >= 0 else { throw MongoErrors.map(error, operation: "count") }
            return Int(count)
        }
    }

    /// Applies `update` (operators such as `$set`) to the first document matching `filter`.
    public func updateOne(_ filter: JSONObject, _ update: JSONObject, upsert: Bool = false) async throws -> MongoUpdateResult {
        try await self.update(filter, update, upsert: upsert, many: false)
    }

    /// Applies `update` to every document matching `filter`.
    public func updateMany(_ filter: JSONObject, _ update: JSONObject) async throws -> MongoUpdateResult {
        try await self.update(filter, update, upsert: false, many: true)
    }

    private func update(_ filter: JSONObject, _ update: JSONObject, upsert: Bool, many: Bool) async throws -> MongoUpdateResult {
        try await self.withCollection("update") { collection in
            let filterDocument = try BSONHandle(filter)
            let updateDocument = try BSONHandle(update)
            let optionsDocument = try BSONHandle(upsert ? ["upsert": true] : [:])
            let reply = BSONReplyStorage()
            var error = bson_error_t()
            let ok = withExtendedLifetime((filterDocument, updateDocument, optionsDocument)) {
                many
                    ? mongoc_collection_update_many(
                        collection, filterDocument.pointer, updateDocument.pointer, optionsDocument.pointer, reply.pointer, &error)
                    : mongoc_collection_update_one(
                        collection, filterDocument.pointer, updateDocument.pointer, optionsDocument.pointer, reply.pointer, &error)
            }
            reply.markInitialized()
            guard ok else { throw MongoErrors.map(error, operation: "update") }
            let result = try reply.withDocument { try $0.object() }
            return MongoUpdateResult(
                matchedCount: Int(result["matchedCount"]?.intValue ?? 0),
                modifiedCount: Int(result["modifiedCount"]?.intValue ?? 0),
                upsertedID: result["upsertedId"]
            )
        }
    }

    /// Atomically updates the first document matching `filter` (in `sort` order) and returns it (after the update
    /// when `returnNew`), or nil when nothing matched. This is MongoDB's `findAndModify`.
    public func findOneAndUpdate(
        _ filter: JSONObject, _ update: JSONObject, sort: JSONObject? = nil, returnNew: Bool = true, upsert: Bool = false,
        projection: JSONObject? = nil
    ) async throws -> JSONObject? {
        try await self.findOneAndUpdate(
            filter, update, sort: sort, returnNew: returnNew, upsert: upsert, projection: projection, as: JSONObject.self)
    }

    /// ``findOneAndUpdate(_:_:sort:returnNew:upsert:projection:)`` with the document decoded as `T` straight from BSON.
    public func findOneAndUpdate<T: Decodable & Sendable>(
        _ filter: JSONObject, _ update: JSONObject, sort: JSONObject? = nil, returnNew: Bool = true, upsert: Bool = false,
        projection: JSONObject? = nil, as type: T.Type
    ) async throws -> T? {
        try await self.findAndModify(
            filter, update: update, sort: sort, returnNew: returnNew, upsert: upsert, remove: false, projection: projection, as: T.self)
    }

    /// Atomically removes the first document matching `filter` and returns it.
    public func findOneAndDelete(_ filter: JSONObject, sort: JSONObject? = nil) async throws -> JSONObject? {
        try await self.findAndModify(
            filter, update: nil, sort: sort, returnNew: false, upsert: false, remove: true, projection: nil, as: JSONObject.self)
    }

    private func findAndModify<T: Decodable & Sendable>(
        _ filter: JSONObject, update: JSONObject?, sort: JSONObject?, returnNew: Bool, upsert: Bool, remove: Bool,
        projection: JSONObject?, as type: T.Type
    ) async throws -> T? {
        try await self.withCollection("findAndModify") { collection in
            let filterDocument = try BSONHandle(filter)
            let updateDocument = try update.map { object throws(DatabaseError) in try BSONHandle(object) }
            let sortDocument = try sort.map { object throws(DatabaseError) in try BSONHandle(object) }
            let fieldsDocument = try projection.map { object throws(DatabaseError) in try BSONHandle(object) }
            let options = mongoc_find_and_modify_opts_new()!
            defer { mongoc_find_and_modify_opts_destroy(options) }
            var flags = MONGOC_FIND_AND_MODIFY_NONE.rawValue
            if returnNew { flags |= MONGOC_FIND_AND_MODIFY_RETURN_NEW.rawValue }
            if upsert { flags |= MONGOC_FIND_AND_MODIFY_UPSERT.rawValue }
            if remove { flags |= MONGOC_FIND_AND_MODIFY_REMOVE.rawValue }
            let reply = BSONReplyStorage()
            var error = bson_error_t()
            let ok = withExtendedLifetime((filterDocument, updateDocument, sortDocument, fieldsDocument)) { () -> Bool in
                _ = mongoc_find_and_modify_opts_set_flags(options, mongoc_find_and_modify_flags_t(flags))
                if let updateDocument { _ = mongoc_find_and_modify_opts_set_update(options, updateDocument.pointer) }
                if let sortDocument { _ = mongoc_find_and_modify_opts_set_sort(options, sortDocument.pointer) }
                if let fieldsDocument { _ = mongoc_find_and_modify_opts_set_fields(options, fieldsDocument.pointer) }
                return mongoc_collection_find_and_modify_with_opts(collection, filterDocument.pointer, options, reply.pointer, &error)
            }
            reply.markInitialized()
            guard ok else { throw MongoErrors.map(error, operation: "findAndModify") }
            return try reply.withDocument { reply -> T? in
                guard let value = try reply.element(named: "value"), value.type == .document else { return nil }
                return try BSONDecoder.decode(T.self, from: value.documentValue)
            }
        }
    }

    /// Deletes the first document matching `filter`; returns how many were deleted (0 or 1).
    public func deleteOne(_ filter: JSONObject) async throws -> Int {
        try await self.delete(filter, many: false)
    }

    /// Deletes every document matching `filter`; returns how many were deleted.
    public func deleteMany(_ filter: JSONObject) async throws -> Int {
        try await self.delete(filter, many: true)
    }

    private func delete(_ filter: JSONObject, many: Bool) async throws -> Int {
        try await self.withCollection("delete") { collection in
            let filterDocument = try BSONHandle(filter)
            let reply = BSONReplyStorage()
            var error = bson_error_t()
            let ok = withExtendedLifetime(filterDocument) {
                many
                    ? mongoc_collection_delete_many(collection, filterDocument.pointer, nil, reply.pointer, &error)
                    : mongoc_collection_delete_one(collection, filterDocument.pointer, nil, reply.pointer, &error)
            }
            reply.markInitialized()
            guard ok else { throw MongoErrors.map(error, operation: "delete") }
            return Int(try reply.withDocument { try $0.object() }["deletedCount"]?.intValue ?? 0)
        }
    }

    /// Runs an aggregation pipeline.
    public func aggregate(_ pipeline: [JSONValue]) async throws -> [JSONObject] {
        try await self.withCollection("aggregate") { collection in
            let pipelineDocument = try BSONHandle(["pipeline": .array(pipeline)])
            return try withExtendedLifetime(pipelineDocument) {
                let cursor = mongoc_collection_aggregate(collection, MONGOC_QUERY_NONE, pipelineDocument.pointer, nil, nil)!
                defer { mongoc_cursor_destroy(cursor) }
                return try Self.drain(cursor, operation: "aggregate", as: JSONObject.self)
            }
        }
    }

    /// Creates the indexes if they do not exist (an existing index with the same name and keys is a no-op).
    public func createIndexes(_ indexes: [MongoIndex]) async throws {
        guard !indexes.isEmpty else { return }
        let command: JSONObject = ["createIndexes": .string(self.name), "indexes": .array(indexes.map { .object($0.document) })]
        _ = try await self.pool.runCommand(command, database: self.database)
    }

    /// The collection's index descriptions (`key`, `name`, `unique`, …) as the server reports them.
    ///
    /// Match on `key` rather than `name`: nx-27017 renames indexes (`idx_<collection>_<field>`).
    public func indexes() async throws -> [JSONObject] {
        let reply = try await self.pool.runCommand(["listIndexes": .string(self.name)], database: self.database)
        return (reply["cursor"]?.objectValue?["firstBatch"]?.arrayValue ?? []).compactMap(\.objectValue)
    }

    /// Drops the collection (no error when it does not exist).
    public func drop() async throws {
        do {
            _ = try await self.pool.runCommand(["drop": .string(self.name)], database: self.database)
        } catch let error as DatabaseError where error.serverCode == 26 {
            return  // NamespaceNotFound
        }
    }

    /// Every document of `cursor`, decoded while libmongoc still owns it (it is valid only until the next call).
    private static func drain<T: Decodable>(_ cursor: OpaquePointer, operation: String, as type: T.Type) throws -> [T] {
        var documents: [T] = []
        var current: OpaquePointer? = nil
        while mongoc_cursor_next(cursor, &current) {
            guard let current else { continue }
            documents.append(try BSONView.withDocument(current) { try BSONDecoder.decode(T.self, from: $0) })
        }
        var error = bson_error_t()
        if mongoc_cursor_error(cursor, &error) { throw MongoErrors.map(error, operation: operation) }
        return documents
    }
}
