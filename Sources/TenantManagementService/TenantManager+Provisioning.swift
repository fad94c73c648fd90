import DatabaseLayer
import Foundation
import Logging

/// Registration and provisioning: the create, its resumption after a failure, and `/provision`.
extension TenantManager {
    /// Registers a tenant as `provisioning` and provisions it.
    ///
    /// When the id or name exists already: the same create of a tenant whose provisioning `failed` takes it over and
    /// finishes it; anything else is a conflict (including a create racing one that is still provisioning).
    func create(_ request: CreateTenantRequest, logger: Logger) async throws -> TenantResponse {
        // A generated id can collide with an existing one (32 random bits): retry with a fresh id a few times.
        for attempt in 0..<3 {
            let id = try request.tenantID ?? Self.generateID()
            let now = Date()
            let tenant = Tenant(
                tenantID: id.rawValue, name: request.name, tier: request.tier, region: request.region, status: .provisioning,
                databaseConfig: TenantDatabaseConfig(
                    type: request.databaseType, databaseName: id.mongoDatabaseName, connectionString: self.connectionString,
                    postgresDatabase: self.postgresDatabase),
                settings: request.settings, createdAt: now, updatedAt: now, provisioningError: nil, deletionError: nil)
            do {
                try await self.repository.insert(tenant)
            } catch let error as DatabaseError where error.code == .conflict {
                if let existing = try await self.repository.tenant(id) {
                    if request.tenantID == nil, existing.nameKey != tenant.nameKey, attempt < 2 { continue }
                    return try await self.resumeCreate(existing, request: request, logger: logger)
                }
                if let existing = try await self.repository.tenant(named: request.name) {
                    return try await self.resumeCreate(existing, request: request, logger: logger)
                }
                throw TenantError.duplicate
            }
            logger.info("tenant registered", metadata: ["tenant_id": "\(id)", "tier": "\(request.tier)", "region": "\(request.region)"])
            return try await self.provision(tenant, logger: logger)
        }
        throw TenantError.duplicate
    }

    /// The same create again: only a tenant whose provisioning failed, with the same name (and id, when the request
    /// names one), is taken over; the compare-and-set from `failed` lets exactly one of several racing retries win.
    private func resumeCreate(_ existing: Tenant, request: CreateTenantRequest, logger: Logger) async throws -> TenantResponse {
        guard existing.status == .failed, existing.nameKey == Tenant.nameKey(request.name),
            request.tenantID.map({ $0.rawValue == existing.tenantID }) ?? true
        else { throw TenantError.duplicate }
        let id = try existing.id
        let change = TenantChange(name: request.name, tier: request.tier, region: request.region, settings: request.settings, status: .provisioning)
        let claimed = try await self.repository.update(id, whenStatusIn: [.failed], change)
        guard claimed, let tenant = try await self.repository.tenant(id) else { throw TenantError.duplicate }
        logger.info("resuming failed provisioning on repeated create", metadata: ["tenant_id": "\(id)"])
        return try await self.provision(tenant, logger: logger)
    }

    /// `POST /tenants/{id}/provision`: finishes a `failed` or interrupted (`provisioning`) tenant. An `active` or
    /// `suspended` tenant is already provisioned and is returned unchanged; a `deleting` one is an invalid state.
    func provisionAgain(_ id: TenantID, logger: Logger) async throws -> TenantResponse {
        guard let tenant = try await self.repository.tenant(id) else { throw TenantError.notFound(id) }
        switch tenant.status {
        case .active, .suspended:
            return TenantResponse(tenant: tenant, databases: try await self.repository.databases(of: id))
        case .deleting:
            throw TenantError.invalidState("Tenant \(id) is being deleted; repeat DELETE to finish that instead.")
        case .provisioning:
            // Interrupted (the process stopped mid-way) or running right now: the steps are idempotent, so run them.
            return try await self.provision(tenant, logger: logger)
        case .failed:
            let claimed = try await self.repository.update(id, whenStatusIn: [.failed], .status(.provisioning))
            guard claimed, let claimedTenant = try await self.repository.tenant(id) else {
                throw TenantError.invalidState("Tenant \(id) changed while provisioning was requested; retry.")
            }
            return try await self.provision(claimedTenant, logger: logger)
        }
    }

    /// Runs the provisioning steps (each idempotent), then sets `active`; a failing step sets `failed` with the error.
    private func provision(_ tenant: Tenant, logger: Logger) async throws -> TenantResponse {
        let id = try tenant.id
        var step = "register_databases"
        do {
            // Recorded first, so that a DELETE after a crash at any later point still finds everything to drop.
            let primaries = try TenantProvisioner.primaryDatabases(of: id, at: Date())
            for database in primaries { try await Self.retrying { try await self.repository.record(database, allowExisting: true) } }
            step = "mongodb_database"
            try await Self.retrying { try await self.provisioner.ensurePrimaryMongoDatabase(id.mongoDatabaseName) }
            step = "postgresql_schemas"
            let schemas = try TenantProvisioner.plugins.map { plugin throws(DatabaseError) in try id.postgresSchemaName(plugin: plugin) }
            try await Self.retrying { try await self.provisioner.ensureSchemas(schemas, tenant: id) }
        } catch {
            let failure = Self.operationError(step: step, error: error)
            logger.error(
                "tenant provisioning failed", metadata: ["tenant_id": "\(id)", "step": "\(step)", "error": .string(String(reflecting: error))])
            self.count("tenants_provisioned", success: false)
            // Only a tenant still `provisioning` becomes `failed`: a concurrent run that already succeeded wins.
            do {
                _ = try await self.repository.update(id, whenStatusIn: [.provisioning], TenantChange(status: .failed, provisioningError: failure))
            } catch {
                // The tenant stays `provisioning`; `/provision` resumes it all the same.
                logger.error(
                    "could not record the provisioning failure", metadata: ["tenant_id": "\(id)", "error": .string(String(reflecting: error))])
            }
            await self.invalidate(id, logger: logger)
            throw TenantError.provisioningFailed(failure, tenant: id)
        }
        let activated = try await self.repository.update(
            id, whenStatusIn: [.provisioning, .failed], TenantChange(status: .active, clearProvisioningError: true))
        self.count("tenants_provisioned", success: true)
        if activated { logger.info("tenant provisioned", metadata: ["tenant_id": "\(id)"]) }
        await self.invalidate(id, logger: logger)
        guard let response = try await self.tenant(id) else { throw TenantError.notFound(id) }
        return response
    }
}
