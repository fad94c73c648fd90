import DatabaseLayer
import Logging

/// Deletion: drop everything the tenant owns, then forget it.
extension TenantManager {
    /// Statuses from which a tenant may be deleted: not while provisioning runs, which could recreate what the
    /// deletion just dropped; finish or fail it first (`/provision`).
    static let deletableStatuses: [TenantStatus] = [.active, .suspended, .failed, .deleting]

    /// Marks the tenant `deleting`, drops its MongoDB databases, then its PostgreSQL schemas (one transaction), then
    /// removes its registry entries.
    ///
    /// A failure leaves the tenant `deleting` with `deletion_error` naming the step: what was dropped stays dropped,
    /// the rest is still there and recorded, the tenant can no longer be provisioned or changed, and DELETE again
    /// finishes the job (every drop is idempotent).
    func delete(_ id: TenantID, logger: Logger) async throws {
        guard let tenant = try await self.repository.tenant(id) else { throw TenantError.notFound(id) }
        if tenant.status == .provisioning {
            throw TenantError.invalidState("Tenant \(id) is being provisioned; wait for it to finish or fail (or run /provision), then delete it.")
        }
        guard try await self.repository.update(id, whenStatusIn: Self.deletableStatuses, .status(.deleting)) else {
            guard try await self.repository.tenant(id) != nil else { throw TenantError.notFound(id) }
            throw TenantError.invalidState("Tenant \(id) is being provisioned; retry once that has finished.")
        }
        await self.invalidate(id, logger: logger)
        var step = "drop_mongodb"
        do {
            let databases = try await self.repository.databases(of: id)
            // The derived names are included even if their records are missing, so nothing provisioning made is left.
            let mongoNames = Set(databases.filter { $0.type == .mongodb }.map(\.name)).union([id.mongoDatabaseName])
            for name in mongoNames.sorted() { try await Self.retrying { try await self.provisioner.dropMongoDatabase(name) } }
            step = "drop_postgresql"
            var schemaNames = Set(databases.filter { $0.type == .postgresql }.map(\.name))
            for plugin in TenantProvisioner.plugins { schemaNames.insert(try id.postgresSchemaName(plugin: plugin).name) }
            let schemas = try schemaNames.sorted().map { name throws(DatabaseError) in try SQLIdentifier(name) }
            try await Self.retrying { try await self.provisioner.dropSchemas(schemas, tenant: id) }
            step = "remove_registry_entry"
            try await self.repository.removeDatabases(of: id)
            _ = try await self.repository.removeTenant(id)
        } catch {
            let failure = Self.operationError(step: step, error: error)
            logger.error("tenant deletion failed", metadata: ["tenant_id": "\(id)", "step": "\(step)", "error": .string(String(reflecting: error))])
            self.count("tenants_deleted", success: false)
            // Best effort: the tenant is `deleting` either way, and DELETE again finishes whatever is left.
            _ = try? await self.repository.update(id, whenStatusIn: [.deleting], TenantChange(deletionError: failure))
            await self.invalidate(id, logger: logger)
            throw TenantError.deletionFailed(failure, tenant: id)
        }
        self.count("tenants_deleted", success: true)
        logger.info("tenant deleted", metadata: ["tenant_id": "\(id)"])
        await self.invalidate(id, logger: logger)
    }
}
