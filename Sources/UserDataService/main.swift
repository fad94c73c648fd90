import DatabaseLayer

await ServiceLauncher.run(UserDataApp.self)
