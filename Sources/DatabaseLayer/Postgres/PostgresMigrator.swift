/// Where one shipped migration stands in a database.
public struct PostgresMigrationStatus: Sendable, Equatable {
    /// What the database records about the migration.
    public enum State: Sendable, Equatable {
        /// Shipped, not applied yet.
        case pending
        /// Applied, and the shipped file still has the recorded checksum.
        case applied(at: String)
        /// Applied, but the shipped file has changed since: the service refuses to start.
        case changed(at: String)
        /// Applied by a newer binary: recorded in the database, not shipped with this one.
        case unknown(at: String)
    }

    /// The version.
    public var version: Int
    /// `0003_create_users`.
    public var label: String
    /// Its state.
    public var state: State
}

/// Applies, reverts and reports the migrations of one database, recording them in `public.schema_migrations`.
///
/// Every step is one transaction that first takes a transaction-level advisory lock (`pg_advisory_xact_lock`), so
/// two instances starting at once apply each migration exactly once, and the lock cannot outlive the transaction
/// when connections go through pgbouncer in transaction mode (a session lock would stay on whichever server
/// connection pgbouncer picked). A script that fails rolls back with its record, so a migration is all or nothing.
/// Scripts must not contain `BEGIN`/`COMMIT` or statements that refuse to run in a transaction
/// (`CREATE INDEX CONCURRENTLY`); a script that ends the runner's transaction is refused.
public struct PostgresMigrator: Sendable {
    /// What the service ships.
    public let migrations: PostgresMigrationSet
    /// How long a step waits for another instance's lock before giving up (and being retried at startup).
    public let lockTimeoutSeconds: Int

    /// Key of the advisory lock; per database, since PostgreSQL scopes advisory locks to the current database.
    static let lockKeySQL = "hashtextextended('prismicx.schema_migrations', 0)"

    /// Creates a migrator for `migrations`.
    public init(_ migrations: PostgresMigrationSet, lockTimeoutSeconds: Int = 60) {
        self.migrations = migrations
        self.lockTimeoutSeconds = lockTimeoutSeconds
    }

    /// Every shipped migration's state, plus applied versions this binary does not ship. Creates nothing, so a
    /// role without DDL rights can run it.
    public func status(on connection: PostgresConnection) throws(MigrationError) -> [PostgresMigrationStatus] {
        let applied = try Self.mapped { () throws(DatabaseError) in try Self.appliedRows(on: connection) }
        var result: [PostgresMigrationStatus] = self.migrations.migrations.map { migration in
            guard let record = applied[migration.version] else {
                return PostgresMigrationStatus(version: migration.version, label: migration.label, state: .pending)
            }
            let state: PostgresMigrationStatus.State =
                record.checksum == migration.checksum ? .applied(at: record.appliedAt) : .changed(at: record.appliedAt)
            return PostgresMigrationStatus(version: migration.version, label: migration.label, state: state)
        }
        let shipped = Set(self.migrations.migrations.map(\.version))
        for (version, record) in applied where !shipped.contains(version) {
            result.append(PostgresMigrationStatus(version: version, label: record.label, state: .unknown(at: record.appliedAt)))
        }
        return result.sorted { $0.version < $1.version }
    }

    /// Applies every pending migration in version order, one transaction each; returns those this call applied
    /// (none when another instance got there first). Throws before applying anything when an applied migration's
    /// file has changed.
    @discardableResult
    public func up(on connection: PostgresConnection) throws(MigrationError) -> [PostgresMigration] {
        var appliedNow: [PostgresMigration] = []
        while let migration = try self.applyNext(on: connection) {
            appliedNow.append(migration)
        }
        return appliedNow
    }

    /// Reverts the newest applied migration with its down script; returns it, or nil when none is applied.
    @discardableResult
    public func down(on connection: PostgresConnection) throws(MigrationError) -> PostgresMigration? {
        try self.lockedStep(on: connection) { () throws(MigrationError) -> PostgresMigration? in
            let applied = try Self.mapped { () throws(DatabaseError) in try Self.appliedRows(on: connection) }
            guard let newest = applied.keys.max(), let record = applied[newest] else { return nil }
            guard let migration = self.migrations.migrations.first(where: { $0.version == newest }) else {
                throw MigrationError.cannotRevert("\(record.label) was applied by a newer binary and is not shipped with this one")
            }
            guard record.checksum == migration.checksum else {
                throw MigrationError.checksumMismatch(label: migration.label, recorded: record.checksum, shipped: migration.checksum)
            }
            guard let down = migration.down else {
                throw MigrationError.cannotRevert("\(migration.label) has no down script")
            }
            try Self.run(script: down, of: migration, direction: "down", on: connection)
            try Self.mapped { () throws(DatabaseError) in
                try connection.query("DELETE FROM public.schema_migrations WHERE version = $1", [migration.version])
            }
            return migration
        }
    }

    /// One transaction: lock, check every applied checksum, apply the first pending migration and record it.
    private func applyNext(on connection: PostgresConnection) throws(MigrationError) -> PostgresMigration? {
        try self.lockedStep(on: connection) { () throws(MigrationError) -> PostgresMigration? in
            try Self.mapped { () throws(DatabaseError) in
                // Checked first, under the lock: CREATE TABLE IF NOT EXISTS would print a NOTICE on every start.
                let exists = try connection.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present")
                if try exists.first?.decode("present", as: Bool.self) != true {
                    try connection.query(
                        """
                        CREATE TABLE public.schema_migrations (
                            version bigint PRIMARY KEY,
                            name text NOT NULL,
                            checksum text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now()
                        )
                        """)
                }
            }
            let applied = try Self.mapped { () throws(DatabaseError) in try Self.appliedRows(on: connection) }
            for migration in self.migrations.migrations {
                if let record = applied[migration.version], record.checksum != migration.checksum {
                    throw MigrationError.checksumMismatch(label: migration.label, recorded: record.checksum, shipped: migration.checksum)
                }
            }
            guard let next = self.migrations.migrations.first(where: { applied[$0.version] == nil }) else { return nil }
            try Self.run(script: next.up, of: next, direction: "up", on: connection)
            try Self.mapped { () throws(DatabaseError) in
                try connection.query(
                    "INSERT INTO public.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [next.version, next.name, next.checksum])
            }
            return next
        }
    }

    /// Runs `body` in a transaction holding the migration lock; rolls back when it throws.
    private func lockedStep<Result>(
        on connection: PostgresConnection, _ body: () throws(MigrationError) -> Result
    ) throws(MigrationError) -> Result {
        try Self.mapped { () throws(DatabaseError) in
            try connection.query("BEGIN")
            // No statement timeout: a migration may rewrite a large table. The lock wait is bounded instead, so an
            // instance stuck behind a crashed one's transaction fails (and is retried) rather than hanging.
            try connection.query(
                "SELECT set_config('statement_timeout', '0', true), set_config('lock_timeout', $1, true)", ["\(self.lockTimeoutSeconds)s"])
            try connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKeySQL))")
        }
        do {
            let result = try body()
            try Self.mapped { () throws(DatabaseError) in try connection.query("COMMIT") }
            return result
        } catch {
            if connection.isInTransaction { _ = try? connection.query("ROLLBACK") }
            throw error
        }
    }

    /// Runs one script inside the step's transaction; a failure names the migration.
    private static func run(script: String, of migration: PostgresMigration, direction: String, on connection: PostgresConnection)
        throws(MigrationError)
    {
        do {
            try connection.execute(script: script)
        } catch {
            if error.code == .unavailable { throw MigrationError.unavailable(error) }
            let message = error.debugDetails.map { $0.replacing("SQLSTATE \(error.sqlState ?? ""): ", with: "") } ?? error.message
            throw MigrationError.scriptFailed(label: migration.label, direction: direction, sqlState: error.sqlState, message: message)
        }
        guard connection.isInTransaction else {
            throw MigrationError.scriptFailed(
                label: migration.label, direction: direction, sqlState: nil,
                message: "the script ended the runner's transaction (COMMIT or ROLLBACK in a migration file); remove it")
        }
    }

    /// The rows of `schema_migrations` by version, or none when the table does not exist yet.
    private static func appliedRows(on connection: PostgresConnection) throws(DatabaseError) -> [Int: AppliedRecord] {
        let exists = try connection.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode("present", as: Bool.self) == true else { return [:] }
        let rows = try connection.query(
            """
            SELECT version, name, checksum,
                   to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS applied_at
            FROM public.schema_migrations
            """)
        var records: [Int: AppliedRecord] = [:]
        for row in rows {
            let version = try row.decode("version", as: Int.self)
            records[version] = AppliedRecord(
                label: PostgresMigration(version: version, name: try row.decode("name", as: String.self), up: "").label,
                checksum: try row.decode("checksum", as: String.self), appliedAt: try row.decode("applied_at", as: String.self))
        }
        return records
    }

    /// A store failure inside the runner's own statements: retryable when the connection is the problem.
    @discardableResult
    private static func mapped<Result>(_ body: () throws(DatabaseError) -> Result) throws(MigrationError) -> Result {
        do {
            return try body()
        } catch {
            if error.code == .unavailable || error.code == .timeout { throw MigrationError.unavailable(error) }
            throw MigrationError.scriptFailed(
                label: "schema_migrations", direction: "bookkeeping", sqlState: error.sqlState, message: error.debugDetails ?? error.message)
        }
    }

    /// One row of `schema_migrations`.
    struct AppliedRecord {
        var label: String
        var checksum: String
        var appliedAt: String
    }
}
