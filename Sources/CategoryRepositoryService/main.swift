import DatabaseLayer

await ServiceLauncher.run(serviceName: "category-repository-service", logLevelVariable: nil) { environment, logger in
    try await CategoryRepositoryApp.build(environment: environment, logger: logger)
}
