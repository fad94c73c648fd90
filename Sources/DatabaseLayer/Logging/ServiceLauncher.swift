import Foundation
public import Hummingbird
public import Logging

/// The body of every `main.swift`: logging bootstrap, configuration errors as one line and exit status 1, then run.
public enum ServiceLauncher {
    /// Bootstraps logging from `LOG_FORMAT` and the service's log-level variable, builds the application and runs it
    /// until SIGTERM/SIGINT. A ``ConfigurationError`` prints one line naming the variable and exits with status 1.
    /// - Parameters:
    ///   - serviceName: default `SERVICE_NAME` and logger label.
    ///   - logLevelVariable: the reference's level variable (`TENANT_SERVICE_LOG_LEVEL`), or nil for `LOG_LEVEL` only.
    ///   - build: creates the application from the environment.
    public static func run<App: ApplicationProtocol>(
        serviceName: String, logLevelVariable: String?,
        _ build: (ServiceEnvironment, Logger) async throws -> App
    ) async {
        let environment = ServiceEnvironment.process
        let levelVariable = logLevelVariable.flatMap { environment.string($0) } != nil ? logLevelVariable! : "LOG_LEVEL"
        let level = HTTPServiceConfiguration.logLevel(environment.string(levelVariable, default: "info")) ?? .info
        let json = environment.string("LOG_FORMAT", default: "text").lowercased() == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: environment.string("SERVICE_NAME", default: serviceName))
        do {
            let app = try await build(environment, logger)
            try await app.runService()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(serviceName): \(error.description)\n".utf8))
            exit(1)
        } catch {
            logger.critical("service stopped", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}

/// One JSON object per line on stdout (`LOG_FORMAT=json`), for log shippers.
public struct JSONLogHandler: LogHandler {
    /// The logger label.
    public let label: String
    /// Minimum level.
    public var logLevel: Logger.Level = .info
    /// Handler-level metadata.
    public var metadata: Logger.Metadata = [:]

    /// Creates a handler.
    public init(label: String) { self.label = label }

    /// Reads or writes one metadata key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var object: JSONObject = [
            "timestamp": .string(ISO8601.format(Date())), "level": .string(event.level.rawValue), "logger": .string(self.label),
            "message": .string(event.message.description),
        ]
        let merged = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { object[key] = .string(value.description) }
        FileHandle.standardOutput.write(Data((object.jsonString + "\n").utf8))
    }
}
