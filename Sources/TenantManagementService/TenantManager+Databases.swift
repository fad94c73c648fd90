import DatabaseLayer
import Foundation
import Logging

/// Additional databases, and the report of what a tenant's databases look like on the servers.
extension TenantManager {
    /// The tenant's configuration with every recorded database checked against the servers.
    func databaseReport(_ id: TenantID) async throws -> TenantDatabasesResponse {
        guard let tenant = try await self.repository.tenant(id) else { throw TenantError.notFound(id) }
        let databases = try await self.repository.databases(of: id)
        let mongo = try await self.provisioner.existingMongoDatabases(among: databases.filter { $0.type == .mongodb }.map(\.name))
        let schemas = try await self.provisioner.existingSchemas(among: databases.filter { $0.type == .postgresql }.map(\.name))
        let entries = databases.sorted { ($0.type.rawValue, $0.primary ? 0 : 1, $0.name) < ($1.type.rawValue, $1.primary ? 0 : 1, $1.name) }
            .map { database -> TenantDatabasesResponse.Entry in
                switch database.type {
                case .mongodb:
                    return .init(
                        type: .mongodb, name: database.name, primary: database.primary, exists: mongo[database.name] != nil,
                        collections: mongo[database.name])
                case .postgresql:
                    return .init(type: .postgresql, name: database.name, primary: database.primary, exists: schemas.contains(database.name))
                }
            }
        return TenantDatabasesResponse(tenant: tenant, databases: databases, entries: entries)
    }

    /// Creates an additional MongoDB database or PostgreSQL schema for an `active` tenant and records it.
    ///
    /// The record is written first (its unique key makes a second claim of the name a conflict) and removed again if
    /// the creation fails. A DELETE that starts meanwhile may not see the new database, so the tenant is checked
    /// again afterwards and the database dropped if the tenant is no longer active.
    func createDatabase(_ request: CreateTenantDatabaseRequest, logger: Logger) async throws -> TenantDatabaseRecord {
        let id = request.tenantID
        guard let tenant = try await self.repository.tenant(id) else { throw TenantError.notFound(id) }
        guard tenant.status == .active else {
            throw TenantError.invalidState("Databases can only be added to an active tenant; \(id) is \(tenant.status.rawValue).")
        }
        let record = TenantDatabaseRecord(tenantID: id.rawValue, type: request.type, name: request.name, primary: false, createdAt: Date())
        do {
            try await self.repository.record(record, allowExisting: false)
        } catch let error as DatabaseError where error.code == .conflict {
            throw TenantError.conflict("The \(request.type.rawValue) database \(request.name) already exists.")
        }
        do {
            try await Self.retrying { try await self.createStore(record, tenant: id) }
        } catch {
            logger.error(
                "tenant database creation failed",
                metadata: ["tenant_id": "\(id)", "database": "\(record.name)", "error": .string(String(reflecting: error))])
            await self.undo(record, tenant: id, logger: logger)
            throw error
        }
        guard try await self.repository.tenant(id)?.status == .active else {
            await self.undo(record, tenant: id, logger: logger)
            throw TenantError.invalidState("Tenant \(id) stopped being active while the database was created; it was removed again.")
        }
        logger.info("tenant database created", metadata: ["tenant_id": "\(id)", "type": "\(record.type.rawValue)", "database": "\(record.name)"])
        await self.invalidate(id, logger: logger)
        return record
    }

    /// Creates the database or schema a record names (idempotent).
    private func createStore(_ record: TenantDatabaseRecord, tenant: TenantID) async throws {
        switch record.type {
        case .mongodb: try await self.provisioner.ensureAdditionalMongoDatabase(record.name, tenant: tenant)
        case .postgresql: try await self.provisioner.ensureSchemas([try SQLIdentifier(record.name)], tenant: tenant)
        }
    }

    /// Best-effort removal of an additional database and its record; failures are logged (the record then still
    /// lists the database, so a later tenant DELETE drops it).
    private func undo(_ record: TenantDatabaseRecord, tenant: TenantID, logger: Logger) async {
        do {
            switch record.type {
            case .mongodb: try await self.provisioner.dropMongoDatabase(record.name)
            case .postgresql: try await self.provisioner.dropSchemas([try SQLIdentifier(record.name)], tenant: tenant)
            }
            try await self.repository.removeDatabase(key: record.databaseKey)
        } catch {
            logger.error(
                "could not undo a tenant database",
                metadata: ["tenant_id": "\(tenant)", "database": "\(record.name)", "error": .string(String(reflecting: error))])
        }
    }
}
