import DatabaseLayer

await ServiceLauncher.run(serviceName: "task-repo-service", logLevelVariable: nil) { environment, logger in
    try await TaskRepositoryApp.build(environment: environment, logger: logger)
}
