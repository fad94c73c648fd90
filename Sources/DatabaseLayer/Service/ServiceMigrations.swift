import Logging
import NIOPosix

/// The migrations a service ships for one of its PostgreSQL databases, and the role that applies them.
public struct ServiceMigrations: Sendable {
    /// The database, as `migrate --database` names it (e.g. `system_users`).
    public var database: String { self.configuration.database }
    /// Where and as whom to connect; may be a more privileged role than the one that serves requests.
    public var configuration: PostgresConfiguration
    /// The shipped migrations.
    public var migrations: PostgresMigrationSet

    /// Pairs a connection configuration with the migrations applied through it.
    public init(configuration: PostgresConfiguration, migrations: PostgresMigrationSet) {
        self.configuration = configuration
        self.migrations = migrations
    }

    /// Opens one connection (off the caller's thread: libpq blocks), runs `body` with a migrator, and closes it.
    public func withMigrator<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresMigrator, PostgresConnection) throws(MigrationError) -> Result
    ) async throws -> Result {
        let configuration = self.configuration
        let migrator = PostgresMigrator(self.migrations)
        return try await NIOThreadPool.singleton.runIfActive { () throws -> Result in
            let connection: PostgresConnection
            do {
                connection = try PostgresConnection(configuration: configuration)
            } catch let error as DatabaseError {
                throw MigrationError.unavailable(error)
            }
            defer { connection.close() }
            return try body(migrator, connection)
        }
    }
}

extension ServiceRuntime {
    /// Applies `migrations` as the first startup step: readiness stays 503 until they are in, an unreachable
    /// database is retried, and a failing script or a changed applied migration stops the service with one
    /// log line naming the migration.
    public func addMigrations(_ migrations: ServiceMigrations) {
        let logger = self.logger
        self.addStartupStep("migrate \(migrations.database)") {
            do {
                let applied = try await migrations.withMigrator { migrator, connection throws(MigrationError) in
                    for status in try migrator.status(on: connection) {
                        if case .unknown = status.state {
                            // Expand-then-contract schema changes keep an older binary working during a rollback.
                            logger.warning(
                                "the database has a migration this binary does not ship",
                                metadata: ["database": .string(migrations.database), "migration": .string(status.label)])
                        }
                    }
                    return try migrator.up(on: connection).map(\.label)
                }
                logger.info(
                    applied.isEmpty ? "migrations up to date" : "migrations applied",
                    metadata: ["database": .string(migrations.database), "applied": .array(applied.map { .string($0) })])
            } catch let error as MigrationError where !error.isRetryable {
                throw StartupFailure("\(migrations.database): \(error.description)")
            }
        }
    }
}
