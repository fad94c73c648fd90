public import DatabaseLayer
import Foundation
public import Logging
public import Testing

/// The real servers `scripts/with-test-servers.sh` started for this run, read from its `TEST_*` variables.
///
/// When `TEST_REQUIRE_SERVERS=1` (always, under `make test` and CI) a missing server fails the tests instead of
/// skipping them; only a bare `swift test` outside the script may skip, and the skip reason says how to run them.
public enum TestServers {
    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Whether missing servers must fail the run.
    public static var required: Bool { environment["TEST_REQUIRE_SERVERS"] == "1" }

    /// Whether the PostgreSQL suites should run.
    public static var postgresEnabled: Bool { required || environment["TEST_POSTGRES_URL"] != nil }
    /// Whether the Redis suites should run.
    public static var redisEnabled: Bool { required || environment["TEST_REDIS_URL"] != nil }
    /// Whether the MongoDB suites should run.
    public static var mongoEnabled: Bool { required || environment["TEST_MONGODB_URIS"] != nil }

    /// The skip reason shown when a suite is disabled.
    public static let skipReason: Comment =
        "SKIPPED: no test server. Run `make test` (scripts/with-test-servers.sh) to start PostgreSQL, Redis and MongoDB-compatible servers."

    /// The superuser URL of the test PostgreSQL (`TEST_POSTGRES_URL`).
    public static func postgresURL() throws -> String {
        guard let url = environment["TEST_POSTGRES_URL"] else { throw TestServerMissing(variable: "TEST_POSTGRES_URL") }
        return url
    }

    /// A pool configuration for the test PostgreSQL, as `user` on `database` (default: the superuser URL's).
    public static func postgres(
        applicationName: String? = nil,
        pool: ConnectionPoolConfiguration = .init(minimumConnections: 0, maximumConnections: 5, acquisitionTimeout: .seconds(5)),
        user: String? = nil, password: String = "", database: String? = nil
    ) throws -> PostgresConfiguration {
        var configuration = try PostgresConfiguration(
            url: postgresURL(), variable: "TEST_POSTGRES_URL", applicationName: applicationName ?? uniqueName("test"), pool: pool)
        if let user {
            configuration.user = user
            configuration.password = password
        }
        if let database { configuration.database = database }
        return configuration
    }

    /// Whether the pgbouncer suites should run (`TEST_PGBOUNCER_URL`, transaction pooling in front of the test PostgreSQL).
    public static var pgbouncerEnabled: Bool { required || environment["TEST_PGBOUNCER_URL"] != nil }

    /// A configuration through the test pgbouncer, as `user` (default: its superuser) on `database`. pgbouncer
    /// refuses the `options` startup parameter, so no statement timeout is sent (as the services do behind it).
    public static func pgbouncer(
        applicationName: String? = nil,
        pool: ConnectionPoolConfiguration = .init(minimumConnections: 0, maximumConnections: 5, acquisitionTimeout: .seconds(5)),
        user: String? = nil, password: String = "", database: String? = nil
    ) throws -> PostgresConfiguration {
        guard let url = environment["TEST_PGBOUNCER_URL"] else { throw TestServerMissing(variable: "TEST_PGBOUNCER_URL") }
        var configuration = try PostgresConfiguration(
            url: url, variable: "TEST_PGBOUNCER_URL", applicationName: applicationName ?? uniqueName("test"), pool: pool)
        configuration.statementTimeoutMilliseconds = 0
        if let user {
            configuration.user = user
            configuration.password = password
        }
        if let database { configuration.database = database }
        return configuration
    }

    /// The test Redis (`TEST_REDIS_URL`, with its password).
    public static func redis(pool: ConnectionPoolConfiguration = .init(minimumConnections: 0, maximumConnections: 4)) throws -> RedisConfiguration {
        guard let url = environment["TEST_REDIS_URL"] else { throw TestServerMissing(variable: "TEST_REDIS_URL") }
        return try RedisConfiguration(url: url, pool: pool)
    }

    /// The MongoDB-compatible servers (`TEST_MONGODB_URIS`, `name=uri,…`), e.g. nx-27017 and secantusdb.
    public static var mongoServers: [MongoTestServer] {
        guard let list = environment["TEST_MONGODB_URIS"] else {
            // Keeps parameterised tests non-empty so that, under TEST_REQUIRE_SERVERS, they fail rather than vanish.
            return required ? [MongoTestServer(name: "missing", uri: "")] : []
        }
        return list.split(separator: ",").compactMap { entry -> MongoTestServer? in
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return MongoTestServer(name: String(parts[0]), uri: String(parts[1]))
        }
    }

    /// The first MongoDB server (the fast one), for tests that need only one.
    public static func primaryMongo() throws -> MongoTestServer {
        guard let server = mongoServers.first, !server.uri.isEmpty else { throw TestServerMissing(variable: "TEST_MONGODB_URIS") }
        return server
    }

    /// The server that behaves like MongoDB where nx-27017 0.8.1 does not (secantusdb): nx-27017 stores dates written
    /// by update operators as strings (`count` then misses them) and compares dates only to the second, so suites
    /// that depend on exact date semantics at scale (the 500-task drain) run here.
    public static func faithfulMongo() throws -> MongoTestServer {
        guard let server = mongoServers.first(where: { $0.name == "secantusdb" && !$0.uri.isEmpty }) else {
            throw TestServerMissing(variable: "TEST_MONGODB_URIS (secantusdb)")
        }
        return server
    }

    /// A quiet logger for tests (`TEST_LOG_LEVEL` to see more).
    public static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = HTTPServiceConfiguration.logLevel(environment["TEST_LOG_LEVEL"] ?? "warning") ?? .warning
        return logger
    }

    /// A fresh name for per-test isolation (`prefix_<12 hex>`), valid as a database, collection, schema or role.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
    }
}

/// One MongoDB-compatible test server.
public struct MongoTestServer: Sendable, CustomTestStringConvertible {
    /// `nx-27017` or `secantusdb`.
    public var name: String
    /// Its connection string.
    public var uri: String

    /// Creates a server description.
    public init(name: String, uri: String) {
        self.name = name
        self.uri = uri
    }

    /// A configuration for `database` on this server.
    public func configuration(database: String, maximumConnections: Int = 8) throws -> MongoConfiguration {
        guard !self.uri.isEmpty else { throw TestServerMissing(variable: "TEST_MONGODB_URIS") }
        return try MongoConfiguration(uri: self.uri, database: database, maximumConnections: maximumConnections, timeoutMilliseconds: 5000)
    }

    /// The server name, shown in test output.
    public var testDescription: String { self.name }
}

/// A `TEST_*` variable the run needs is not set: the servers were not started.
public struct TestServerMissing: Error, CustomStringConvertible {
    /// The missing variable.
    public var variable: String
    /// Explains how to start the servers.
    public var description: String { "\(self.variable) is not set: run the tests through `make test` (scripts/with-test-servers.sh)" }
}
