@testable public import DatabaseLayer
import Foundation

/// Scoped test databases: each helper creates a fresh database (or schema), hands it to the test, and always
/// removes it afterwards, whether the test passed, failed or threw.
public enum TestDatabases {
    /// A fresh MongoDB database on `server`, dropped afterwards.
    /// - Parameters:
    ///   - server: the MongoDB test server.
    ///   - prefix: the name prefix (`tasks` → `tasks_<12 hex>`).
    ///   - body: gets the database name and a pool on it.
    public static func withMongoDatabase<Value>(
        on server: MongoTestServer, prefix: String, _ body: (String, MongoClientPool) async throws -> Value
    ) async throws -> Value {
        let name = TestServers.uniqueName(prefix)
        let pool = try MongoClientPool(configuration: server.configuration(database: name), logger: TestServers.logger)
        return try await Self.cleaningUp {
            try await body(name, pool)
        } cleanup: {
            try? await pool.dropDatabase(name)
            await pool.clients.shutdown()
        }
    }

    /// A fresh PostgreSQL database on the test server, dropped afterwards.
    /// - Parameter body: gets the database name.
    public static func withPostgresDatabase<Value>(prefix: String, _ body: (String) async throws -> Value) async throws -> Value {
        let name = TestServers.uniqueName(prefix)
        let admin = try Self.adminPool()
        try await admin.query("CREATE DATABASE \(try SQLIdentifier(name).quoted)")
        return try await Self.cleaningUp {
            try await body(name)
        } cleanup: {
            _ = try? await admin.query("DROP DATABASE IF EXISTS \(try SQLIdentifier(name).quoted) WITH (FORCE)")
            await admin.connections.shutdown()
        }
    }

    /// Creates `name` on the test PostgreSQL unless it exists (services expect their fixed databases to exist).
    public static func ensurePostgresDatabase(_ name: String) async throws {
        let admin = try Self.adminPool()
        try await Self.cleaningUp {
            let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).first != nil
            if !exists { try await admin.query("CREATE DATABASE \(try SQLIdentifier(name).quoted)") }
        } cleanup: {
            await admin.connections.shutdown()
        }
    }

    /// Runs `body`, then `cleanup`, on success and on error alike (the async `defer` Swift lacks).
    public static func cleaningUp<Value>(_ body: () async throws -> Value, cleanup: () async -> Void) async throws -> Value {
        let value: Value
        do {
            value = try await body()
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
        return value
    }

    private static func adminPool() throws -> PostgresPool {
        PostgresPool(configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 1)), logger: TestServers.logger)
    }
}
