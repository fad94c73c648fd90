import DatabaseLayer

await ServiceLauncher.run(TaskRepositoryApp.self)
