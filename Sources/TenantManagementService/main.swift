import DatabaseLayer

await ServiceLauncher.run(serviceName: "tenant-mgmt-service", logLevelVariable: "TENANT_SERVICE_LOG_LEVEL") { environment, logger in
    try await TenantManagementApp.build(environment: environment, logger: logger)
}
