import DatabaseLayer
import Hummingbird
import Logging

/// Builds the tenant management service: the tenant registry in MongoDB.
enum TenantManagementApp {
    static func build(environment: ServiceEnvironment, logger: Logger) async throws -> some ApplicationProtocol {
        let configuration = try TenantManagementConfiguration(environment: environment)
        let runtime = ServiceRuntime(configuration: configuration.http, logger: logger)
        _ = try runtime.mongo(configuration.registry)
        return runtime.makeApplication(router: runtime.makeRouter())
    }
}
