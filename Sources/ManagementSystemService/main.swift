import DatabaseLayer

await ServiceLauncher.run(ManagementSystemApp.self)
