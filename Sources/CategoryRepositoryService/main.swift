import DatabaseLayer

await ServiceLauncher.run(CategoryRepositoryApp.self)
