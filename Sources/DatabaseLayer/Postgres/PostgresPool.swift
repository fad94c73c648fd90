public import Logging
public import ServiceLifecycle

/// A bounded pool of libpq connections; every statement runs on the pool's own threads.
///
/// The API follows postgres-nio's `PostgresClient`: `withConnection`, and `run()` as a `Service`.
public final class PostgresPool: Service, Sendable {
    let connections: ConnectionPool<PostgresConnection>
    /// The configuration in use (the password is a secret: never log it).
    public let configuration: PostgresConfiguration
    private let metrics: (any DatabaseMetricsRecorder)?
    private let logger: Logger

    /// Creates the pool; `minimumConnections` are opened when `run()` starts.
    public init(configuration: PostgresConfiguration, logger: Logger, metrics: (any DatabaseMetricsRecorder)? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.connections = ConnectionPool(
            backend: "postgres", configuration: configuration.pool,
            onWait: { duration in metrics?.recordPoolWait(backend: "postgres", duration: duration) },
            factory: { try PostgresConnection(configuration: configuration) }
        )
        metrics?.registerPool(backend: "postgres", name: configuration.database) { [connections = self.connections] in connections.statistics }
    }

    /// Current pool counts.
    public var statistics: ConnectionPoolStatistics { self.connections.statistics }

    /// Leases a connection and runs `body` with it (on the pool's threads).
    /// - Parameters:
    ///   - operation: label for `db_operation_duration_seconds`.
    ///   - body: blocking work with the connection.
    public func withConnection<Result: Sendable>(
        operation: String = "query", _ body: @escaping @Sendable (PostgresConnection) throws -> Result
    ) async throws -> Result {
        let start = ContinuousClock.now
        defer { self.metrics?.recordOperation(backend: "postgres", operation: operation, duration: ContinuousClock.now - start) }
        do {
            return try await self.connections.withConnection(body)
        } catch let error as DatabaseError {
            self.logger.debug("postgres \(operation) failed", metadata: ["error": "\(error.debugDetails ?? error.message)"])
            throw error
        }
    }

    /// Runs `body` in a transaction on a leased connection.
    public func withTransaction<Result: Sendable>(
        operation: String = "transaction", _ body: @escaping @Sendable (PostgresConnection) throws -> Result
    ) async throws -> Result {
        try await self.withConnection(operation: operation) { connection in try connection.transaction(body) }
    }

    /// Runs `body` in a transaction scoped to `tenant` (`app.current_tenant_id`, transaction-local).
    public func withTransaction<Result: Sendable>(
        tenant: TenantID, operation: String = "transaction", _ body: @escaping @Sendable (PostgresConnection) throws -> Result
    ) async throws -> Result {
        try await self.withConnection(operation: operation) { connection in try connection.transaction(tenant: tenant, body) }
    }

    /// Runs one statement and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresBindable)?] = [], operation: String = "query") async throws -> PostgresRows {
        try await self.withConnection(operation: operation) { connection in try connection.query(sql, parameters) }
    }

    /// `SELECT 1` (readiness).
    public func ping() async throws {
        try await self.query("SELECT 1", operation: "ping")
    }

    /// Opens the minimum connections, waits for graceful shutdown, then closes the pool.
    public func run() async throws {
        await self.connections.prewarm()
        try? await gracefulShutdown()
        await self.connections.shutdown()
    }
}
