/// The facts the reference fixes about one service: its name and the variables it listens and logs by.
///
/// A service states these once, in its configuration type; the launcher, the shared HTTP configuration and the
/// logger all read them from here, so `main.swift` repeats nothing.
public struct ServiceDescriptor: Sendable {
    /// Binary and default `SERVICE_NAME` (`task-repo-service`).
    public var name: String
    /// The variable holding the bind address (`HOST`, `TENANT_SERVICE_HOST`).
    public var hostVariable: String
    /// The variable holding the port (`PORT`, `TENANT_SERVICE_PORT`).
    public var portVariable: String
    /// The port when the variable is unset (the container port for category and management).
    public var defaultPort: Int
    /// The service's own level variable (`TENANT_SERVICE_LOG_LEVEL`); nil when only `LOG_LEVEL` applies.
    public var logLevelVariable: String?

    /// Creates a descriptor.
    public init(name: String, hostVariable: String = "HOST", portVariable: String = "PORT", defaultPort: Int, logLevelVariable: String? = nil) {
        self.name = name
        self.hostVariable = hostVariable
        self.portVariable = portVariable
        self.defaultPort = defaultPort
        self.logLevelVariable = logLevelVariable
    }

    /// The level variable in effect: the service's own when it is set, else `LOG_LEVEL`.
    public func effectiveLogLevelVariable(in environment: ServiceEnvironment) -> String {
        if let own = self.logLevelVariable, environment.string(own) != nil { return own }
        return "LOG_LEVEL"
    }
}
