import DatabaseLayerTesting
import Foundation
import Testing

@testable import DatabaseLayer

/// The migration runner against the real PostgreSQL, each test in a database of its own; the race and the
/// down-then-up cycle also run through pgbouncer in transaction mode, as the services connect in compose.
@Suite(.enabled(if: TestServers.postgresEnabled, TestServers.skipReason))
struct PostgresMigratorTests {
    /// Direct, or through the test pgbouncer.
    enum Route: String, CaseIterable, CustomTestStringConvertible {
        case direct, pgbouncer
        var testDescription: String { self.rawValue }
    }

    static let first = PostgresMigration(
        version: 1, name: "create_notes",
        up: "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);\nINSERT INTO notes VALUES (1, 'seed');",
        down: "DROP TABLE notes;")
    static let second = PostgresMigration(
        version: 2, name: "add_tags",
        up: "ALTER TABLE notes ADD COLUMN tags text[] NOT NULL DEFAULT '{}';\nCREATE INDEX notes_tags ON notes USING gin (tags);",
        down: "DROP INDEX notes_tags;\nALTER TABLE notes DROP COLUMN tags;")

    /// Creates a fresh database, runs `body` with a connection factory for it, and drops it.
    func withDatabase(route: Route = .direct, _ body: (_ connect: @escaping @Sendable () throws -> PostgresConnection) async throws -> Void)
        async throws
    {
        let admin = try PostgresConnection(configuration: TestServers.postgres())
        let name = TestServers.uniqueName("migrate")
        try admin.query("CREATE DATABASE \(name)")
        defer {
            _ = try? admin.query("DROP DATABASE \(name) WITH (FORCE)")
            admin.close()
        }
        let configuration = try route == .direct ? TestServers.postgres(database: name) : TestServers.pgbouncer(database: name)
        try await body { try PostgresConnection(configuration: configuration) }
    }

    /// Runs blocking libpq work on a thread of its own, so racing calls really overlap.
    func onThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func records(_ connection: PostgresConnection) throws -> [Int: String] {
        var records: [Int: String] = [:]
        for row in try connection.query("SELECT version, checksum, applied_at::text AS at FROM public.schema_migrations") {
            records[try row.decode("version", as: Int.self)] = try row.decode("checksum", as: String.self) + "@" + row.decode("at", as: String.self)
        }
        return records
    }

    @Test func aFreshDatabaseGetsEveryMigrationAndASecondRunChangesNothing() async throws {
        try await withDatabase { connect in
            let connection = try connect()
            defer { connection.close() }
            let migrator = PostgresMigrator(try PostgresMigrationSet([Self.second, Self.first]))
            #expect(try migrator.status(on: connection).map(\.state) == [.pending, .pending])
            #expect(try migrator.up(on: connection).map(\.label) == ["0001_create_notes", "0002_add_tags"])
            let before = try Self.records(connection)
            #expect(before.keys.sorted() == [1, 2])
            #expect(before[1]?.hasPrefix(Self.first.checksum) == true)
            #expect(try connection.query("SELECT count(*)::int AS n FROM notes WHERE tags = '{}'").first?.decode("n", as: Int.self) == 1)

            #expect(try migrator.up(on: connection).isEmpty)
            #expect(try Self.records(connection) == before, "a second run must not touch the records")
            let states = try migrator.status(on: connection).map(\.state)
            #expect(states.allSatisfy { if case .applied = $0 { true } else { false } })
        }
    }

    @Test(arguments: Route.allCases) func racingInstancesApplyEachMigrationExactlyOnce(route: Route) async throws {
        if route == .pgbouncer, !TestServers.pgbouncerEnabled { return }
        try await withDatabase(route: route) { connect in
            // The first migration sleeps, so every racer is waiting on the lock while it runs.
            let slow = PostgresMigration(
                version: 1, name: "slow_counter",
                up: "CREATE TABLE runs (id serial PRIMARY KEY);\nINSERT INTO runs DEFAULT VALUES;\nSELECT pg_sleep(0.3);")
            let counted = PostgresMigration(version: 2, name: "count_again", up: "INSERT INTO runs DEFAULT VALUES;")
            let set = try PostgresMigrationSet([slow, counted])
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await onThread {
                            let connection = try connect()
                            defer { connection.close() }
                            return try PostgresMigrator(set).up(on: connection).map(\.label)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(applied.sorted() == ["0001_slow_counter", "0002_count_again"], "each migration is applied by exactly one racer")
            let connection = try connect()
            defer { connection.close() }
            #expect(try connection.query("SELECT count(*)::int AS n FROM runs").first?.decode("n", as: Int.self) == 2)
            #expect(try Self.records(connection).count == 2)
        }
    }

    @Test func aChangedAppliedMigrationIsRefusedBeforeAnythingElseRuns() async throws {
        try await withDatabase { connect in
            let connection = try connect()
            defer { connection.close() }
            try PostgresMigrator(try PostgresMigrationSet([Self.first])).up(on: connection)
            let edited = PostgresMigration(version: 1, name: "create_notes", up: Self.first.up + "\n-- edited", down: Self.first.down)
            let migrator = PostgresMigrator(try PostgresMigrationSet([edited, Self.second]))
            #expect(throws: MigrationError.self) { try migrator.up(on: connection) }
            do {
                try migrator.up(on: connection)
            } catch let error as MigrationError {
                guard case .checksumMismatch(let label, _, _) = error else { throw error }
                #expect(label == "0001_create_notes")
                #expect(!error.isRetryable)
            }
            #expect(try Self.records(connection).keys.sorted() == [1], "0002 must not run after a refused check")
            #expect(try migrator.status(on: connection).map(\.state).first.map { if case .changed = $0 { true } else { false } } == true)
        }
    }

    @Test func aFailingMigrationRollsBackWholeWithItsRecord() async throws {
        try await withDatabase { connect in
            let connection = try connect()
            defer { connection.close() }
            let broken = PostgresMigration(version: 2, name: "half_done", up: "CREATE TABLE half (x int);\nSELECT * FROM no_such_table;")
            let migrator = PostgresMigrator(try PostgresMigrationSet([Self.first, broken]))
            do {
                try migrator.up(on: connection)
                Issue.record("expected the broken migration to fail")
            } catch let error as MigrationError {
                guard case .scriptFailed(let label, let direction, let sqlState, let message) = error else { throw error }
                #expect(label == "0002_half_done")
                #expect(direction == "up")
                #expect(sqlState == "42P01")
                #expect(message.contains("no_such_table"))
                #expect(!error.isRetryable)
            }
            #expect(try Self.records(connection).keys.sorted() == [1], "0001 stays, 0002 is not recorded")
            #expect(try connection.query("SELECT to_regclass('half') IS NULL AS gone").first?.decode("gone", as: Bool.self) == true)
            #expect(!connection.isInTransaction)
        }
    }

    @Test func aScriptThatEndsTheTransactionIsRefused() async throws {
        try await withDatabase { connect in
            let connection = try connect()
            defer { connection.close() }
            let committing = PostgresMigration(version: 1, name: "commits", up: "CREATE TABLE c (x int);\nCOMMIT;")
            #expect(throws: MigrationError.self) { try PostgresMigrator(try PostgresMigrationSet([committing])).up(on: connection) }
            #expect(try Self.records(connection).isEmpty)
        }
    }

    @Test(arguments: Route.allCases) func downRevertsOneStepAndUpReappliesIt(route: Route) async throws {
        if route == .pgbouncer, !TestServers.pgbouncerEnabled { return }
        try await withDatabase(route: route) { connect in
            let connection = try connect()
            defer { connection.close() }
            let migrator = PostgresMigrator(try PostgresMigrationSet([Self.first, Self.second]))
            try migrator.up(on: connection)
            #expect(try migrator.down(on: connection)?.label == "0002_add_tags")
            #expect(try Self.records(connection).keys.sorted() == [1])
            let column = "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'tags'"
            #expect(try connection.query(column).first?.decode("n", as: Int.self) == 0)
            #expect(try migrator.status(on: connection).map(\.state).last == .pending)
            #expect(try migrator.up(on: connection).map(\.label) == ["0002_add_tags"])
            #expect(try connection.query(column).first?.decode("n", as: Int.self) == 1)

            try migrator.down(on: connection)
            try migrator.down(on: connection)
            #expect(try migrator.down(on: connection) == nil, "nothing left to revert")
            #expect(try connection.query("SELECT to_regclass('notes') IS NULL AS gone").first?.decode("gone", as: Bool.self) == true)
        }
    }

    @Test func aMigrationWithoutDownScriptCannotBeReverted() async throws {
        try await withDatabase { connect in
            let connection = try connect()
            defer { connection.close() }
            let oneWay = PostgresMigration(version: 1, name: "one_way", up: "CREATE TABLE kept (x int);")
            let migrator = PostgresMigrator(try PostgresMigrationSet([oneWay]))
            try migrator.up(on: connection)
            #expect(throws: MigrationError.self) { try migrator.down(on: connection) }
            #expect(try Self.records(connection).keys.sorted() == [1])
        }
    }

    @Test func aFailingStartupMigrationStopsTheServiceInsteadOfRetrying() async throws {
        let admin = try PostgresConnection(configuration: TestServers.postgres())
        let name = TestServers.uniqueName("migrate")
        try admin.query("CREATE DATABASE \(name)")
        defer {
            _ = try? admin.query("DROP DATABASE \(name) WITH (FORCE)")
            admin.close()
        }
        let runtime = ServiceRuntime(
            configuration: try HTTPServiceConfiguration(
                environment: ServiceEnvironment(["API_KEY": "migrate-test-key"]),
                descriptor: ServiceDescriptor(name: "migrate-test", hostVariable: "H", portVariable: "P", defaultPort: 0)),
            logger: TestServers.logger)
        let broken = PostgresMigration(version: 1, name: "broken", up: "SELECT * FROM no_such_table;")
        runtime.addMigrations(
            ServiceMigrations(configuration: try TestServers.postgres(database: name), migrations: try PostgresMigrationSet([broken])))
        do {
            try await runtime.startup.run()
            Issue.record("expected the startup work to stop")
        } catch let failure as StartupFailure {
            #expect(failure.reason.contains("0001_broken"))
            #expect(failure.reason.contains(name))
        }
        #expect(!runtime.startup.isFinished)
    }
}
