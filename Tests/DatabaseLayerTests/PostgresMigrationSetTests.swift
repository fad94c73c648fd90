import Foundation
import Testing

@testable import DatabaseLayer

/// Loading shipped migration files and parsing the service command line; no server needed.
struct PostgresMigrationSetTests {
    /// Writes `files` into a fresh directory and returns it.
    func directory(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

    @Test func filesLoadInVersionOrderWithTheirDownScripts() throws {
        let url = try directory([
            "0002_add_index.up.sql": "CREATE INDEX i ON t (x);",
            "0001_create_t.up.sql": "CREATE TABLE t (x int);",
            "0001_create_t.down.sql": "DROP TABLE t;",
            "README.md": "not a migration",
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let set = try PostgresMigrationSet(directory: url)
        #expect(set.migrations.map(\.label) == ["0001_create_t", "0002_add_index"])
        #expect(set.migrations[0].down == "DROP TABLE t;")
        #expect(set.migrations[1].down == nil)
    }

    @Test(arguments: [
        ["1_x.sql": "SELECT 1;"],
        ["0001_Create.up.sql": "SELECT 1;"],
        ["0001_x.down.sql": "SELECT 1;"],
        ["0001_a.up.sql": "SELECT 1;", "001_b.up.sql": "SELECT 2;"],
        ["abc_x.up.sql": "SELECT 1;"],
    ])
    func inconsistentFilesAreRefusedNotSkipped(files: [String: String]) throws {
        let url = try directory(files)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: MigrationError.self) { try PostgresMigrationSet(directory: url) }
    }

    @Test func theChecksumIsTheUpScriptsSHA256() {
        // printf 'SELECT 1;' | sha256sum
        let migration = PostgresMigration(version: 1, name: "x", up: "SELECT 1;")
        #expect(migration.checksum == "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a")
        #expect(migration.checksum == PostgresMigration(version: 1, name: "renamed", up: "SELECT 1;").checksum)
        #expect(migration.checksum != PostgresMigration(version: 1, name: "x", up: "SELECT 1; ").checksum)
    }

    @Test func theCommandLineDefaultsToServeAndParsesMigrate() throws {
        func parsed(_ arguments: [String]) throws -> String {
            switch try ServiceCommand.parse(arguments: arguments) {
            case .serve: "serve"
            case .migrate(let command): "migrate \(command.action) \(command.database ?? "-")"
            }
        }
        #expect(try parsed([]) == "serve")
        #expect(try parsed(["serve"]) == "serve")
        #expect(try parsed(["migrate", "down", "--database", "system_users"]) == "migrate down system_users")
        #expect(try parsed(["migrate", "status"]) == "migrate status -")
        #expect(try parsed(["migrate", "up"]) == "migrate up -")
        #expect(throws: (any Error).self) { try parsed(["migrate", "sideways"]) }
    }

    @Test func statusLinesSayWhatAnOperatorMustKnow() {
        let changed = MigrateRunner.describe(.init(version: 3, label: "0003_x", state: .changed(at: "2026-12-02T10:00:00Z")))
        #expect(changed.contains("CHANGED") && changed.contains("will not start"))
        #expect(MigrateRunner.describe(.init(version: 1, label: "0001_x", state: .pending)).hasSuffix("pending"))
    }
}
