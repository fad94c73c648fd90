internal import CMongoC
import Foundation
public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle

/// libmongoc's process-wide initialisation, run once before the first pool.
private let mongocInitialized: Void = {
    mongoc_init()
}()

/// One client popped from the `mongoc_client_pool_t`, held by our ``ConnectionPool`` (which adds the acquisition
/// timeout, waiter queue and statistics) and pushed back when the pool closes it.
///
/// `@unchecked Sendable`: like every pooled connection, only the lease holder or the pool touches it, one at a time.
final class MongoPooledClient: PooledConnection, @unchecked Sendable {
    let client: OpaquePointer
    /// Holds the libmongoc pool alive until this client is pushed back, so `mongoc_client_pool_destroy` runs last.
    private let owner: MongoClientPoolHandle
    private var isPushed = false

    init(owner: MongoClientPoolHandle) throws(DatabaseError) {
        // Our pool never holds more clients than maxPoolSize, so this pop does not block.
        guard let client = mongoc_client_pool_try_pop(owner.pool) else {
            throw DatabaseError(.unavailable, "The document store is unavailable.", debugDetails: "mongoc_client_pool_try_pop returned NULL")
        }
        self.client = client
        self.owner = owner
    }

    /// libmongoc reconnects by itself; a client is always reusable.
    var isReusable: Bool { true }

    /// Pushes the client back into the libmongoc pool (it takes libmongoc's pool mutex); later calls do nothing.
    func close() {
        guard !self.isPushed else { return }
        self.isPushed = true
        mongoc_client_pool_push(self.owner.pool, self.client)
    }

    /// Only a backstop: the pool calls ``close()`` on its blocking threads, and `deinit` may run on any thread.
    deinit { self.close() }
}

/// Owns the `mongoc_client_pool_t` and its URI; destroyed after every client has been pushed back.
final class MongoClientPoolHandle: @unchecked Sendable {
    let pool: OpaquePointer
    private let uri: OpaquePointer

    init(configuration: MongoConfiguration) throws(DatabaseError) {
        _ = mongocInitialized
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(configuration.uri, &error) else {
            throw DatabaseError(.internalError, "Invalid MongoDB connection string.", debugDetails: MongoErrors.text(error))
        }
        let size = Int32(configuration.maximumConnections)
        let timeout = Int32(configuration.timeoutMilliseconds)
        _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_MAXPOOLSIZE, size)
        _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeout)
        _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeout)
        _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_WAITQUEUETIMEOUTMS, timeout)
        _ = mongoc_uri_set_appname(uri, configuration.applicationName)
        guard let pool = mongoc_client_pool_new(uri) else {
            mongoc_uri_destroy(uri)
            throw DatabaseError(.internalError, "Invalid MongoDB connection string.", debugDetails: "mongoc_client_pool_new failed")
        }
        _ = mongoc_client_pool_set_error_api(pool, Int32(MONGOC_ERROR_API_VERSION_2))
        self.pool = pool
        self.uri = uri
    }

    deinit {
        mongoc_client_pool_destroy(self.pool)
        mongoc_uri_destroy(self.uri)
    }
}

/// MongoDB access through libmongoc's thread-safe client pool; blocking calls run on the pool's own threads.
///
/// A `Service`: add it to the `ServiceGroup` before the HTTP server so it shuts down after the server drains.
public final class MongoClientPool: Service, Sendable {
    /// The configuration in use (the URI is a secret: never log it).
    public let configuration: MongoConfiguration
    let clients: ConnectionPool<MongoPooledClient>
    private let metrics: (any DatabaseMetricsRecorder)?
    private let logger: Logger

    /// Creates the pool; nothing connects until the first operation.
    public init(configuration: MongoConfiguration, logger: Logger, metrics: (any DatabaseMetricsRecorder)? = nil) throws(DatabaseError) {
        let handle = try MongoClientPoolHandle(configuration: configuration)
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.clients = ConnectionPool(
            backend: "mongodb",
            configuration: .init(
                minimumConnections: 0, maximumConnections: configuration.maximumConnections,
                acquisitionTimeout: .milliseconds(configuration.timeoutMilliseconds)
            ),
            onWait: { duration in metrics?.recordPoolWait(backend: "mongodb", duration: duration) },
            factory: { try MongoPooledClient(owner: handle) }
        )
        metrics?.registerPool(backend: "mongodb", name: configuration.database) { [clients = self.clients] in clients.statistics }
    }

    /// A collection in `database` (default: the configured database). Names must pass ``MongoName`` validation.
    public func collection(_ name: String, database: String? = nil) throws(DatabaseError) -> MongoCollection {
        let database = database ?? self.configuration.database
        guard MongoName.isValidDatabaseName(database), MongoName.isValidCollectionName(name) else {
            throw DatabaseError(.invalidInput, "Invalid database or collection name.")
        }
        return MongoCollection(pool: self, database: database, name: name)
    }

    /// Runs `body` with a leased client on the pool's threads and records the operation's duration.
    func withClient<Result: Sendable>(
        operation: String, _ body: @escaping @Sendable (OpaquePointer) throws -> Result
    ) async throws -> Result {
        let start = ContinuousClock.now
        defer { self.metrics?.recordOperation(backend: "mongodb", operation: operation, duration: ContinuousClock.now - start) }
        do {
            return try await self.clients.withConnection { lease in try body(lease.client) }
        } catch let error as DatabaseError {
            self.logger.debug("mongodb \(operation) failed", metadata: ["error": "\(error.debugDetails ?? error.message)"])
            throw error
        }
    }

    /// Runs a database command and returns the server's reply.
    public func runCommand(_ command: JSONObject, database: String) async throws -> JSONObject {
        guard MongoName.isValidDatabaseName(database) || database == "admin" else {
            throw DatabaseError(.invalidInput, "Invalid database name.")
        }
        let name = command.keys.first ?? "command"
        return try await self.withClient(operation: name) { client in
            let commandDocument = try BSONHandle(command)
            let reply = BSONReplyStorage()
            var error = bson_error_t()
            let ok = withExtendedLifetime(commandDocument) {
                mongoc_client_command_simple(client, database, commandDocument.pointer, nil, reply.pointer, &error)
            }
            reply.markInitialized()
            guard ok else { throw MongoErrors.map(error, operation: name) }
            return try reply.withDocument { try $0.object() }
        }
    }

    /// Round-trips a `ping` to the server (readiness).
    public func ping() async throws {
        _ = try await self.runCommand(["ping": 1], database: "admin")
    }

    /// Names of the databases on the server.
    public func databaseNames() async throws -> [String] {
        try await self.withClient(operation: "listDatabases") { client in
            var error = bson_error_t()
            guard let names = mongoc_client_get_database_names_with_opts(client, nil, &error) else {
                throw MongoErrors.map(error, operation: "listDatabases")
            }
            defer { bson_strfreev(names) }
            return MongoErrors.strings(names)
        }
    }

    /// Names of the collections in `database`.
    public func collectionNames(database: String) async throws -> [String] {
        guard MongoName.isValidDatabaseName(database) else { throw DatabaseError(.invalidInput, "Invalid database name.") }
        return try await self.withClient(operation: "listCollections") { client in
            let handle = mongoc_client_get_database(client, database)
            defer { mongoc_database_destroy(handle) }
            var error = bson_error_t()
            guard let names = mongoc_database_get_collection_names_with_opts(handle, nil, &error) else {
                throw MongoErrors.map(error, operation: "listCollections")
            }
            defer { bson_strfreev(names) }
            return MongoErrors.strings(names)
        }
    }

    /// Drops `database` (no error when it does not exist).
    public func dropDatabase(_ database: String) async throws {
        _ = try await self.runCommand(["dropDatabase": 1], database: database)
    }

    /// Waits for graceful shutdown, then returns every client and destroys the libmongoc pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.shutdown()
    }

    /// Fails waiting callers and releases idle clients, for use outside a `ServiceGroup` (tools, tests).
    public func shutdown() async {
        await self.clients.shutdown()
    }
}

/// Conversion of libbson/libmongoc errors.
enum MongoErrors {
    static func text(_ error: bson_error_t) -> String {
        withUnsafeBytes(of: error.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    static func map(_ error: bson_error_t, operation: String) -> DatabaseError {
        let details = "\(operation): domain \(error.domain) code \(error.code): \(self.text(error))"
        let code = Int(error.code)
        switch error.domain {
        case UInt32(MONGOC_ERROR_STREAM.rawValue), UInt32(MONGOC_ERROR_SERVER_SELECTION.rawValue):
            return DatabaseError(.unavailable, "The document store is unavailable.", debugDetails: details, serverCode: code)
        case UInt32(MONGOC_ERROR_BSON.rawValue):
            return DatabaseError(.invalidInput, "The request could not be turned into a valid query.", debugDetails: details, serverCode: code)
        case UInt32(MONGOC_ERROR_COMMAND.rawValue) where code == Int(MONGOC_ERROR_COMMAND_INVALID_ARG.rawValue):
            return DatabaseError(.invalidInput, "The request could not be turned into a valid query.", debugDetails: details, serverCode: code)
        default:
            let classification = DatabaseError.code(forMongoServerCode: code)
            let message =
                switch classification {
                case .conflict: "A record with the same unique key already exists."
                case .timeout: "The document store operation timed out."
                case .invalidInput: "The document store rejected a value in the request."
                case .unavailable: "The document store is unavailable."
                case .notFound: "Not found."
                case .internalError: "The document store operation failed."
                }
            return DatabaseError(classification, message, debugDetails: details, serverCode: code)
        }
    }

    static func strings(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> [String] {
        var result: [String] = []
        var index = 0
        while let item = list[index] {
            result.append(String(cString: item))
            index += 1
        }
        return result
    }
}
