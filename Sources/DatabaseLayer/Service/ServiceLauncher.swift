import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// The body of every `main.swift`: logging bootstrap, configuration errors as one line and exit status 1, then run.
public enum ServiceLauncher {
    /// Bootstraps logging from `LOG_FORMAT` and the service's log-level variable, parses the command line, and
    /// runs `migrate up|down|status` or (the default) the service until SIGTERM/SIGINT. A ``ConfigurationError``
    /// prints one line naming the variable and exits with status 1.
    public static func run<App: ServiceApplication>(_ app: App.Type) async {
        // Swift concurrency's jobs run on NIO's event loops instead of a second pool of threads. A request's handler
        // then runs on the loop that read it, and a store reply resumes it with one wake-up instead of two hops
        // (pool thread -> global executor -> event loop); measured in docs/performance.md. Nothing of ours blocks
        // on the global executor: every C call runs on a ConnectionPool's own threads.
        // `CONCURRENCY_EXECUTOR=default` keeps the runtime's pool, so the two can be compared in one benchmark run.
        let environment = ServiceEnvironment.process
        let descriptor = App.Configuration.descriptor
        switch environment.string("CONCURRENCY_EXECUTOR", default: "event-loops").lowercased() {
        case "event-loops": _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        case "default": break
        default:
            FileHandle.standardError.write(
                Data("\(descriptor.name): configuration error: CONCURRENCY_EXECUTOR must be event-loops or default\n".utf8))
            exit(1)
        }
        let level = HTTPServiceConfiguration.logLevel(environment.string(descriptor.effectiveLogLevelVariable(in: environment), default: "info"))
        let json = environment.string("LOG_FORMAT", default: "text").lowercased() == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = level ?? .info
            return handler
        }
        let logger = Logger(label: environment.string("SERVICE_NAME", default: descriptor.name))
        let command: ServiceCommand.Parsed
        do {
            command = try ServiceCommand.parse(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            ServiceCommand.exit(withError: error)
        }
        if case .migrate(let migrate) = command {
            exit(await MigrateRunner.run(migrate, app: App.self, environment: environment))
        }
        do {
            let application = try await App.makeApplication(environment: environment, logger: logger)
            try await application.runService()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(descriptor.name): \(error.description)\n".utf8))
            exit(1)
        } catch {
            logger.critical("service stopped", metadata: ["error": "\(String(reflecting: error))"])
            exit(1)
        }
    }
}
