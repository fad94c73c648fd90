import ArgumentParser
import Foundation

/// The command line of every service binary: `serve` (the default, what containers run) or `migrate …`.
struct ServiceCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "service",
            abstract: "A PrismicX data service. Configuration comes from the environment (see the service README).",
            subcommands: [ServeCommand.self, MigrateCommand.self],
            defaultSubcommand: ServeCommand.self
        )
    }
}

extension ServiceCommand {
    /// What the command line asks for.
    enum Parsed {
        case serve
        case migrate(any MigrateSubcommand)
    }

    /// Parses `arguments` (without the binary name); `--help` and mistakes throw what `exit(withError:)` prints.
    static func parse(arguments: [String]) throws -> Parsed {
        let command = try Self.parseAsRoot(arguments)
        if let migrate = command as? any MigrateSubcommand { return .migrate(migrate) }
        return .serve
    }
}

/// `serve`: run the HTTP service until SIGTERM/SIGINT (the default).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service (the default).")
}

/// `migrate`: the operator's view of the service's PostgreSQL migrations.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply, revert or list the PostgreSQL migrations this binary ships, with the service's own environment.",
        subcommands: [MigrateUpCommand.self, MigrateDownCommand.self, MigrateStatusCommand.self]
    )
}

/// What a `migrate` subcommand does.
enum MigrateAction: Sendable {
    case up, down, status
}

/// The subcommands of `migrate`, which differ only in their action.
protocol MigrateSubcommand: ParsableCommand {
    /// `--database`: which of the service's databases; all of them when omitted (`down` needs exactly one).
    var database: String? { get }
    /// The action.
    var action: MigrateAction { get }
}

/// `migrate up`.
struct MigrateUpCommand: MigrateSubcommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Apply every pending migration (what startup does).")
    @Option(help: "Only this database (default: every database of the service).") var database: String?
    var action: MigrateAction { .up }
}

/// `migrate down`.
struct MigrateDownCommand: MigrateSubcommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Revert the newest applied migration, one step.")
    @Option(help: "The database (required when the service has several).") var database: String?
    var action: MigrateAction { .down }
}

/// `migrate status`.
struct MigrateStatusCommand: MigrateSubcommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "List every migration and whether it is applied.")
    @Option(help: "Only this database (default: every database of the service).") var database: String?
    var action: MigrateAction { .status }
}

/// Runs a parsed `migrate` subcommand against the databases of `App`.
enum MigrateRunner {
    /// Prints what was done (stdout) or what failed (stderr, one line); returns the exit status.
    static func run<App: ServiceApplication>(_ command: some MigrateSubcommand, app: App.Type, environment: ServiceEnvironment) async -> Int32 {
        let targets: [ServiceMigrations]
        do {
            targets = try App.migrations(configuration: App.readConfiguration(environment: environment))
        } catch {
            return fail("\(error)")
        }
        guard !targets.isEmpty else { return fail("this service has no PostgreSQL migrations") }
        let chosen: [ServiceMigrations]
        if let database = command.database {
            chosen = targets.filter { $0.database == database }
            guard !chosen.isEmpty else {
                return fail("no migrations for database \(database); this service migrates: \(targets.map(\.database).joined(separator: ", "))")
            }
        } else if command.action == .down, targets.count > 1 {
            return fail("this service migrates several databases (\(targets.map(\.database).joined(separator: ", "))): choose one with --database")
        } else {
            chosen = targets
        }
        let action = command.action
        for target in chosen {
            do {
                let lines = try await target.withMigrator { migrator, connection throws(MigrationError) -> [String] in
                    switch action {
                    case .up:
                        let applied = try migrator.up(on: connection)
                        return applied.isEmpty ? ["up to date"] : applied.map { "applied \($0.label)" }
                    case .down:
                        return [try migrator.down(on: connection).map { "reverted \($0.label)" } ?? "nothing to revert"]
                    case .status:
                        return try migrator.status(on: connection).map(Self.describe)
                    }
                }
                print("\(target.database):")
                for line in lines { print("  \(line)") }
            } catch {
                return fail("\(target.database): \(error)")
            }
        }
        return 0
    }

    /// `0001_create_users  applied 2026-12-02T10:00:00Z`.
    static func describe(_ status: PostgresMigrationStatus) -> String {
        let label = status.label.padding(toLength: max(status.label.count, 40), withPad: " ", startingAt: 0)
        switch status.state {
        case .pending: return "\(label)  pending"
        case .applied(let at): return "\(label)  applied \(at)"
        case .changed(let at): return "\(label)  CHANGED since it was applied \(at): the service will not start"
        case .unknown(let at): return "\(label)  applied \(at), not shipped with this binary"
        }
    }

    private static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("migrate: \(message)\n".utf8))
        return 1
    }
}
