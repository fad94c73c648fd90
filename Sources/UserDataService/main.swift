import DatabaseLayer

await ServiceLauncher.run(serviceName: "user-data-service", logLevelVariable: "USER_SERVICE_LOG_LEVEL") { environment, logger in
    try await UserDataApp.build(environment: environment, logger: logger)
}
