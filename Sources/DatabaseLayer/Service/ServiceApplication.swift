public import Hummingbird
public import Logging

/// A service's own configuration: its descriptor plus the variables only it reads.
public protocol ServiceConfiguration: Sendable {
    /// Name, listen variables and log-level variable, from the reference.
    static var descriptor: ServiceDescriptor { get }
    /// The shared settings, read by the launcher with ``descriptor``.
    var http: HTTPServiceConfiguration { get }
    /// Reads the service's own variables; `http` has already been read and validated.
    init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError)
}

/// One microservice: how it opens its stores on the shared runtime and which routes it serves.
///
/// The launcher reads the configuration, creates the ``ServiceRuntime``, calls ``build(configuration:runtime:)``
/// and serves the returned routes behind the shared middleware. `main.swift` is one line:
/// `await ServiceLauncher.run(TaskRepositoryApp.self)`.
public protocol ServiceApplication {
    /// The configuration type.
    associatedtype Configuration: ServiceConfiguration

    /// Opens the stores through `runtime`, registers startup work and background services, and returns the routes.
    static func build(configuration: Configuration, runtime: ServiceRuntime) async throws -> RouteCollection<ServiceRequestContext>

    /// The PostgreSQL migrations the service ships, per database: applied at startup before any other startup
    /// step, and what `<binary> migrate up|down|status` acts on. None by default.
    static func migrations(configuration: Configuration) throws -> [ServiceMigrations]
}

extension ServiceApplication {
    /// No migrations.
    public static func migrations(configuration: Configuration) throws -> [ServiceMigrations] { [] }

    /// Reads the configuration from `environment` (the same variables the service reads) for the migrate command.
    static func readConfiguration(environment: ServiceEnvironment) throws(ConfigurationError) -> Configuration {
        let http = try HTTPServiceConfiguration(environment: environment, descriptor: Configuration.descriptor)
        return try Configuration(environment: environment, http: http)
    }
}

extension ServiceApplication {
    /// Reads the configuration from `environment` and assembles the runnable application (used by the launcher
    /// and by tests).
    public static func makeApplication(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let http = try HTTPServiceConfiguration(environment: environment, descriptor: Configuration.descriptor)
        let configuration = try Configuration(environment: environment, http: http)
        let runtime = ServiceRuntime(configuration: http, logger: logger)
        try await runtime.enableBearerTokens()
        for migrations in try Self.migrations(configuration: configuration) { runtime.addMigrations(migrations) }
        let routes = try await Self.build(configuration: configuration, runtime: runtime)
        let router = runtime.makeRouter()
        router.addRoutes(routes)
        return runtime.makeApplication(router: router)
    }
}
