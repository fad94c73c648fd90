import DatabaseLayer

await ServiceLauncher.run(TenantManagementApp.self)
