import DatabaseLayer

await ServiceLauncher.run(serviceName: "management-system-repo", logLevelVariable: nil) { environment, logger in
    try await ManagementSystemApp.build(environment: environment, logger: logger)
}
