import Crypto
public import Foundation

/// One versioned schema change: an up script, optionally a down script, and the checksum of the up script.
public struct PostgresMigration: Sendable, Equatable {
    /// The version, from the file name (`0003_…` is 3); versions are unique within a set and applied in order.
    public let version: Int
    /// The name after the version (`create_users`), recorded in `schema_migrations`.
    public let name: String
    /// The SQL that applies the change; may hold several statements, runs inside the runner's transaction.
    public let up: String
    /// The SQL that reverts it (`migrate down`), if the migration can be reverted.
    public let down: String?

    /// Creates a migration from its parts.
    public init(version: Int, name: String, up: String, down: String? = nil) {
        self.version = version
        self.name = name
        self.up = up
        self.down = down
    }

    /// SHA-256 of the up script's bytes, in hex: an applied migration whose file changed is refused at startup,
    /// because the database no longer matches what the shipped file says it contains.
    public var checksum: String {
        SHA256.hash(data: Data(self.up.utf8)).map { byte in
            String(UInt16(byte) | 0x100, radix: 16).dropFirst()
        }.joined()
    }

    /// `0003_create_users`, as operators see it in logs and `migrate status`.
    public var label: String {
        let digits = String(self.version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + self.name
    }
}

/// The ordered migrations of one database, as a service ships them.
public struct PostgresMigrationSet: Sendable {
    /// Ascending by version.
    public let migrations: [PostgresMigration]

    /// Orders `migrations` by version; throws on a repeated version or a name that is not `[a-z0-9_]+`.
    public init(_ migrations: [PostgresMigration]) throws(MigrationError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw MigrationError.invalidSet("two migrations have version \(next.version): \(previous.label) and \(next.label)")
        }
        for migration in sorted where migration.version < 1 || !Self.isValidName(migration.name) {
            throw MigrationError.invalidSet("\(migration.label): versions start at 1 and names are lowercase letters, digits and '_'")
        }
        self.migrations = sorted
    }

    /// Loads `NNNN_name.up.sql` and the optional `NNNN_name.down.sql` files of `directory`; any other `.sql` file,
    /// or a down script without its up script, is an error rather than something silently skipped.
    public init(directory: URL) throws(MigrationError) {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        } catch {
            throw MigrationError.invalidSet("cannot read the migrations directory \(directory.path): \(error.localizedDescription)")
        }
        var ups: [String: (version: Int, name: String, sql: String)] = [:]
        var downs: [String: String] = [:]
        for file in files.sorted() {
            guard let parsed = Self.parseFileName(file) else {
                throw MigrationError.invalidSet("\(file): migration files are named NNNN_name.up.sql or NNNN_name.down.sql")
            }
            let sql: String
            do {
                sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            } catch {
                throw MigrationError.invalidSet("cannot read \(file): \(error.localizedDescription)")
            }
            let stem = "\(parsed.version)_\(parsed.name)"
            if parsed.isUp { ups[stem] = (parsed.version, parsed.name, sql) } else { downs[stem] = sql }
        }
        if let orphan = downs.keys.first(where: { ups[$0] == nil }) {
            throw MigrationError.invalidSet("\(orphan).down.sql has no up script")
        }
        try self.init(ups.map { stem, up in PostgresMigration(version: up.version, name: up.name, up: up.sql, down: downs[stem]) })
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100 && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    /// `0003_create_users.up.sql` → (3, "create_users", up).
    static func parseFileName(_ file: String) -> (version: Int, name: String, isUp: Bool)? {
        let isUp: Bool
        let stem: Substring
        if file.hasSuffix(".up.sql") {
            (isUp, stem) = (true, file.dropLast(".up.sql".count))
        } else if file.hasSuffix(".down.sql") {
            (isUp, stem) = (false, file.dropLast(".down.sql".count))
        } else {
            return nil
        }
        guard let separator = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<separator]
        let name = String(stem[stem.index(after: separator)...])
        guard (1...9).contains(digits.count), digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let version = Int(digits),
            isValidName(name)
        else { return nil }
        return (version, name, isUp)
    }
}

/// Why migrations could not run; ``isRetryable`` separates a store that is not up yet from a fault that retrying
/// cannot fix (a failing script, a changed file), which must stop the service's start.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// The shipped files are inconsistent (bad names, repeated versions).
    case invalidSet(String)
    /// An applied migration's file no longer has the checksum recorded when it was applied.
    case checksumMismatch(label: String, recorded: String, shipped: String)
    /// A script failed; its transaction was rolled back, so nothing of it was applied.
    case scriptFailed(label: String, direction: String, sqlState: String?, message: String)
    /// `migrate down` cannot revert the newest applied migration.
    case cannotRevert(String)
    /// The database could not be reached or the connection broke; retrying may succeed.
    case unavailable(DatabaseError)

    /// Whether retrying later can succeed.
    public var isRetryable: Bool {
        if case .unavailable = self { return true }
        return false
    }

    /// One line for the log or the terminal, naming the migration; never contains connection secrets.
    public var description: String {
        switch self {
        case .invalidSet(let reason): "invalid migrations: \(reason)"
        case .checksumMismatch(let label, let recorded, let shipped):
            "migration \(label) was changed after it was applied (recorded checksum \(recorded.prefix(12))…, shipped \(shipped.prefix(12))…); "
                + "add a new migration instead of editing an applied one"
        case .scriptFailed(let label, let direction, let sqlState, let message):
            "migration \(label) \(direction) failed and was rolled back (SQLSTATE \(sqlState ?? "none")): \(message)"
        case .cannotRevert(let reason): "cannot migrate down: \(reason)"
        case .unavailable(let error): "database unavailable: \(error.debugDetails ?? error.message)"
        }
    }
}
