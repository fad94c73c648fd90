public import Logging
public import ServiceLifecycle

/// A bounded pool of hiredis connections with the commands the services use.
public final class RedisPool: Service, Sendable {
    let connections: ConnectionPool<RedisConnection>
    private let metrics: (any DatabaseMetricsRecorder)?

    /// Creates the pool; connections open on first use.
    public init(configuration: RedisConfiguration, logger: Logger, metrics: (any DatabaseMetricsRecorder)? = nil) {
        self.metrics = metrics
        self.connections = ConnectionPool(
            backend: "redis", configuration: configuration.pool,
            onWait: { duration in metrics?.recordPoolWait(backend: "redis", duration: duration) },
            factory: { try RedisConnection(configuration: configuration) }
        )
        metrics?.registerPool(backend: "redis", name: "db\(configuration.database)") { [connections = self.connections] in connections.statistics }
    }

    /// Runs one command.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        let start = ContinuousClock.now
        defer {
            self.metrics?.recordOperation(
                backend: "redis", operation: arguments.first?.lowercased() ?? "command", duration: ContinuousClock.now - start)
        }
        return try await self.connections.withConnection { connection in try connection.command(arguments) }
    }

    /// `GET key`; nil when missing.
    public func get(_ key: String) async throws -> String? {
        try await self.command(["GET", key]).string
    }

    /// `SET key value [EX seconds]`.
    public func set(_ key: String, _ value: String, expiresIn seconds: Int? = nil) async throws {
        if let seconds {
            try await self.command(["SET", key, value, "EX", String(max(1, seconds))])
        } else {
            try await self.command(["SET", key, value])
        }
    }

    /// `DEL key…`; returns how many keys were removed.
    @discardableResult
    public func delete(_ keys: String...) async throws -> Int {
        guard case .integer(let count) = try await self.command(["DEL"] + keys) else { return 0 }
        return Int(count)
    }

    /// `INCR key`; returns the new value.
    public func increment(_ key: String) async throws -> Int64 {
        guard case .integer(let value) = try await self.command(["INCR", key]) else {
            throw DatabaseError(.internalError, "Unexpected cache reply.")
        }
        return value
    }

    /// `EXPIRE key seconds`; returns whether the key exists.
    @discardableResult
    public func expire(_ key: String, seconds: Int) async throws -> Bool {
        try await self.command(["EXPIRE", key, String(seconds)]) == .integer(1)
    }

    /// `TTL key` in seconds (-2 missing, -1 no expiry).
    public func timeToLive(_ key: String) async throws -> Int {
        guard case .integer(let value) = try await self.command(["TTL", key]) else { return -2 }
        return Int(value)
    }

    /// `PING` (readiness).
    public func ping() async throws {
        try await self.command(["PING"])
    }

    /// Waits for graceful shutdown, then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.connections.shutdown()
    }
}
