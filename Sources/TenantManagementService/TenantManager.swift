import HTTPTypes
import DatabaseLayer
import Foundation
import Logging

/// The tenant lifecycle: registration, provisioning, updates, deletion and additional databases.
///
/// Every state change is a compare-and-set on the tenant's `status` in the registry, so concurrent requests (two
/// creates, a create and a `/provision`, a DELETE racing a PUT) resolve in MongoDB, and whatever this process
/// crashes in the middle of can be finished by repeating the request.
struct TenantManager: Sendable {
    /// The registry.
    let repository: MongoTenantRepository
    /// Creates and drops tenant databases and schemas.
    let provisioner: TenantProvisioner
    /// Read-through cache of `GET /tenants/{id}`; nil without Redis.
    let cache: RedisCache?
    /// Counters (`tenants_provisioned_total`, …).
    let metrics: ServiceMetrics
    /// What the registry records as the tenant's connection string (stored, masked in responses).
    let connectionString: String
    /// The PostgreSQL database where tenant schemas are created.
    let postgresDatabase: String

    /// Statuses from which a tenant may be deleted: not while provisioning runs, which could recreate what the
    /// deletion just dropped; finish or fail it first (`/provision`).
    static let deletableStatuses: [TenantStatus] = [.active, .suspended, .failed, .deleting]

    // MARK: reads

    /// The tenant as the API returns it, or nil.
    func tenant(_ id: TenantID) async throws -> TenantResponse? {
        guard let record = try await self.repository.tenant(id) else { return nil }
        return TenantResponse(record: record, databases: try await self.repository.databases(of: id))
    }

    /// The tenant through the Redis read-through cache (straight from MongoDB when Redis is not configured).
    func cachedTenant(_ id: TenantID) async throws -> TenantResponse? {
        guard let cache = self.cache else { return try await self.tenant(id) }
        return try await cache.value(for: id.rawValue, as: TenantResponse.self) { try await self.tenant(id) }
    }

    /// One page of tenants.
    func tenants(filter: TenantListFilter, page: PageRequest) async throws -> Page<TenantResponse> {
        let records = try await self.repository.tenants(filter: filter, page: page)
        let databases = try await self.repository.databases(of: records.map(\.tenantID))
        let rows = records.map { TenantResponse(record: $0, databases: databases[$0.tenantID] ?? []) }
        return Page(rows: rows, request: page) { PageCursor(values: [.date($0.createdAt), .string($0.tenantID)]) }
    }

    /// One page of all tenant databases.
    func databases(filter: TenantDatabaseListFilter, page: PageRequest) async throws -> Page<TenantDatabaseResponse> {
        let records = try await self.repository.databases(filter: filter, page: page)
        return Page(rows: records.map(TenantDatabaseResponse.init(record:)), request: page) {
            PageCursor(values: [.string("\($0.type.rawValue):\($0.name)")])
        }
    }

    /// The tenant's configuration with every recorded database checked against the servers.
    func databaseReport(_ id: TenantID) async throws -> TenantDatabasesResponse {
        guard let record = try await self.repository.tenant(id) else { throw Self.notFound(id) }
        let databases = try await self.repository.databases(of: id)
        let response = TenantResponse(record: record, databases: databases)
        let mongo = try await self.provisioner.existingMongoDatabases(among: databases.filter { $0.type == .mongodb }.map(\.name))
        let schemas = try await self.provisioner.existingSchemas(among: databases.filter { $0.type == .postgresql }.map(\.name))
        let entries = databases.sorted { ($0.type.rawValue, $0.primary ? 0 : 1, $0.name) < ($1.type.rawValue, $1.primary ? 0 : 1, $1.name) }
            .map { database -> TenantDatabasesResponse.Entry in
                switch database.type {
                case .mongodb:
                    return .init(type: .mongodb, name: database.name, primary: database.primary, exists: mongo[database.name] != nil, collections: mongo[database.name])
                case .postgresql:
                    return .init(type: .postgresql, name: database.name, primary: database.primary, exists: schemas.contains(database.name), collections: nil)
                }
            }
        return TenantDatabasesResponse(tenantID: record.tenantID, status: record.status, databaseConfig: response.databaseConfig, databases: entries)
    }

    // MARK: create and provision

    /// Registers a tenant as `provisioning` and provisions it.
    ///
    /// When the id or name exists already: the same create of a tenant whose provisioning `failed` takes it over and
    /// finishes it; anything else is `409 conflict` (including a create racing one that is still provisioning).
    func create(_ request: CreateTenantRequest, logger: Logger) async throws -> TenantResponse {
        try await self.repository.ensureIndexes()
        let nameKey = request.name.lowercased()
        // A generated id can collide with an existing one (32 random bits): retry with a fresh id a few times.
        for attempt in 0..<3 {
            let id = try request.tenantID ?? Self.generateID()
            let now = Date()
            let record = TenantRecord(
                tenantID: id.rawValue, name: request.name, nameKey: nameKey, tier: request.tier, region: request.region, status: .provisioning,
                databaseConfig: StoredDatabaseConfig(
                    type: request.databaseType, databaseName: id.mongoDatabaseName, connectionString: self.connectionString,
                    postgresDatabase: self.postgresDatabase),
                settings: request.settings, createdAt: now, updatedAt: now, provisioningError: nil, deletionError: nil)
            do {
                try await self.repository.insert(record)
            } catch let error as DatabaseError where error.code == .conflict {
                if let existing = try await self.repository.tenant(id) {
                    if request.tenantID == nil, existing.nameKey != nameKey, attempt < 2 { continue }
                    return try await self.resumeCreate(existing, request: request, logger: logger)
                }
                if let existing = try await self.repository.tenant(nameKey: nameKey) {
                    return try await self.resumeCreate(existing, request: request, logger: logger)
                }
                throw Self.duplicate()
            }
            logger.info("tenant registered", metadata: ["tenant_id": "\(id)", "tier": "\(request.tier)", "region": "\(request.region)"])
            return try await self.provision(record, logger: logger)
        }
        throw Self.duplicate()
    }

    /// The same create again: only a tenant whose provisioning failed, with the same name (and id, when the request
    /// names one), is taken over; the compare-and-set from `failed` lets exactly one of several racing retries win.
    private func resumeCreate(_ existing: TenantRecord, request: CreateTenantRequest, logger: Logger) async throws -> TenantResponse {
        guard existing.status == .failed, existing.nameKey == request.name.lowercased(),
            request.tenantID.map({ $0.rawValue == existing.tenantID }) ?? true
        else { throw Self.duplicate() }
        let id = try existing.id
        let claimed = try await self.repository.update(
            id, whenStatusIn: [.failed],
            set: [
                "status": .string(TenantStatus.provisioning.rawValue), "name": .string(request.name), "tier": .string(request.tier),
                "region": .string(request.region), "settings": .object(request.settings),
            ])
        guard claimed, let record = try await self.repository.tenant(id) else { throw Self.duplicate() }
        logger.info("resuming failed provisioning on repeated create", metadata: ["tenant_id": "\(id)"])
        return try await self.provision(record, logger: logger)
    }

    /// `POST /tenants/{id}/provision`: finishes a `failed` or interrupted (`provisioning`) tenant. An `active` or
    /// `suspended` tenant is already provisioned and is returned unchanged; a `deleting` one is a 409.
    func provisionAgain(_ id: TenantID, logger: Logger) async throws -> TenantResponse {
        try await self.repository.ensureIndexes()
        guard let record = try await self.repository.tenant(id) else { throw Self.notFound(id) }
        switch record.status {
        case .active, .suspended:
            return TenantResponse(record: record, databases: try await self.repository.databases(of: id))
        case .deleting:
            throw Self.invalidState("Tenant \(id) is being deleted; repeat DELETE to finish that instead.")
        case .provisioning:
            // Interrupted (the process stopped mid-way) or running right now: the steps are idempotent, so run them.
            return try await self.provision(record, logger: logger)
        case .failed:
            let claimed = try await self.repository.update(id, whenStatusIn: [.failed], set: ["status": .string(TenantStatus.provisioning.rawValue)])
            guard claimed, let claimedRecord = try await self.repository.tenant(id) else {
                throw Self.invalidState("Tenant \(id) changed while provisioning was requested; retry.")
            }
            return try await self.provision(claimedRecord, logger: logger)
        }
    }

    /// Runs the provisioning steps (each idempotent), then sets `active`; a failing step sets `failed` with the error.
    private func provision(_ record: TenantRecord, logger: Logger) async throws -> TenantResponse {
        let id = try record.id
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
                "tenant provisioning failed",
                metadata: ["tenant_id": "\(id)", "step": "\(step)", "error": "\(Self.logText(error))"])
            self.metrics.incrementCounter(named: "tenants_provisioned", help: "Tenant provisioning attempts by result", labels: [("result", "failure")])
            // Only a tenant still `provisioning` becomes `failed`: a concurrent run that already succeeded wins.
            if let encoded = try? JSONObject(encoding: failure) {
                do {
                    _ = try await self.repository.update(
                        id, whenStatusIn: [.provisioning], set: ["status": .string(TenantStatus.failed.rawValue), "provisioning_error": .object(encoded)])
                } catch {
                    // The tenant stays `provisioning`; `/provision` resumes it all the same.
                    logger.error("could not record the provisioning failure", metadata: ["tenant_id": "\(id)", "error": "\(Self.logText(error))"])
                }
            }
            await self.invalidate(id, logger: logger)
            throw Self.failure(failure, tenant: id, action: "provisioning", retry: "POST /api/v1/tenants/\(id)/provision")
        }
        let activated = try await self.repository.update(
            id, whenStatusIn: [.provisioning, .failed], set: ["status": .string(TenantStatus.active.rawValue)], unset: ["provisioning_error"])
        self.metrics.incrementCounter(named: "tenants_provisioned", help: "Tenant provisioning attempts by result", labels: [("result", "success")])
        if activated { logger.info("tenant provisioned", metadata: ["tenant_id": "\(id)"]) }
        await self.invalidate(id, logger: logger)
        guard let response = try await self.tenant(id) else { throw Self.notFound(id) }
        return response
    }

    // MARK: update

    /// Applies a PUT. Status may only move between `active` and `suspended`; a `deleting` tenant cannot be changed.
    func update(_ id: TenantID, with request: UpdateTenantRequest, logger: Logger) async throws -> TenantResponse {
        try await self.repository.ensureIndexes()
        var set = JSONObject()
        if let name = request.name {
            set["name"] = .string(name)
            set["name_key"] = .string(name.lowercased())
        }
        if let tier = request.tier { set["tier"] = .string(tier) }
        if let region = request.region { set["region"] = .string(region) }
        if let settings = request.settings { set["settings"] = .object(settings) }
        if let status = request.status { set["status"] = .string(status.rawValue) }
        let allowed: [TenantStatus] = request.status == nil ? [.provisioning, .active, .suspended, .failed] : [.active, .suspended]
        let matched: Bool
        do {
            matched = try await self.repository.update(id, whenStatusIn: allowed, set: set)
        } catch let error as DatabaseError where error.code == .conflict {
            throw APIError.conflict("Another tenant already has this name.")
        }
        guard matched else {
            guard let current = try await self.repository.tenant(id) else { throw Self.notFound(id) }
            if current.status == .deleting { throw Self.invalidState("Tenant \(id) is being deleted.") }
            throw Self.invalidState(
                "Tenant \(id) is \(current.status.rawValue); status can only change between active and suspended (use /provision for a failed tenant).")
        }
        logger.info("tenant updated", metadata: ["tenant_id": "\(id)", "fields": "\(set.keys.filter { $0 != "name_key" }.joined(separator: ","))"])
        await self.invalidate(id, logger: logger)
        guard let response = try await self.tenant(id) else { throw Self.notFound(id) }
        return response
    }

    // MARK: delete

    /// Marks the tenant `deleting`, drops its MongoDB databases, then its PostgreSQL schemas (one transaction), then
    /// removes its registry entries.
    ///
    /// A failure leaves the tenant `deleting` with `deletion_error` naming the step: what was dropped stays dropped,
    /// the rest is still there and recorded, the tenant can no longer be provisioned or changed, and DELETE again
    /// finishes the job (every drop is idempotent).
    func delete(_ id: TenantID, logger: Logger) async throws {
        try await self.repository.ensureIndexes()
        guard let record = try await self.repository.tenant(id) else { throw Self.notFound(id) }
        if record.status == .provisioning {
            throw Self.invalidState("Tenant \(id) is being provisioned; wait for it to finish or fail (or run /provision), then delete it.")
        }
        guard try await self.repository.update(id, whenStatusIn: Self.deletableStatuses, set: ["status": .string(TenantStatus.deleting.rawValue)]) else {
            guard try await self.repository.tenant(id) != nil else { throw Self.notFound(id) }
            throw Self.invalidState("Tenant \(id) is being provisioned; retry once that has finished.")
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
            logger.error("tenant deletion failed", metadata: ["tenant_id": "\(id)", "step": "\(step)", "error": "\(Self.logText(error))"])
            self.metrics.incrementCounter(named: "tenants_deleted", help: "Tenant deletion attempts by result", labels: [("result", "failure")])
            if let encoded = try? JSONObject(encoding: failure) {
                _ = try? await self.repository.update(id, whenStatusIn: [.deleting], set: ["deletion_error": .object(encoded)])
            }
            await self.invalidate(id, logger: logger)
            throw Self.failure(failure, tenant: id, action: "deletion", retry: "DELETE /api/v1/tenants/\(id)")
        }
        self.metrics.incrementCounter(named: "tenants_deleted", help: "Tenant deletion attempts by result", labels: [("result", "success")])
        logger.info("tenant deleted", metadata: ["tenant_id": "\(id)"])
        await self.invalidate(id, logger: logger)
    }

    // MARK: additional databases

    /// Creates an additional MongoDB database or PostgreSQL schema for an `active` tenant and records it.
    ///
    /// The record is written first (its unique key makes a second claim of the name a 409) and removed again if the
    /// creation fails. A DELETE that starts meanwhile may not see the new database, so the tenant is checked again
    /// afterwards and the database dropped if the tenant is no longer active.
    func createDatabase(_ request: CreateTenantDatabaseRequest, logger: Logger) async throws -> TenantDatabaseResponse {
        try await self.repository.ensureIndexes()
        let id = request.tenantID
        guard let tenant = try await self.repository.tenant(id) else { throw Self.notFound(id) }
        guard tenant.status == .active else {
            throw Self.invalidState("Databases can only be added to an active tenant; \(id) is \(tenant.status.rawValue).")
        }
        let record = TenantDatabaseRecord(tenantID: id.rawValue, type: request.type, name: request.name, primary: false, createdAt: Date())
        do {
            try await self.repository.record(record, allowExisting: false)
        } catch let error as DatabaseError where error.code == .conflict {
            throw APIError.conflict("The \(request.type.rawValue) database \(request.name) already exists.")
        }
        do {
            try await Self.retrying { try await self.createStore(record, tenant: id) }
        } catch {
            logger.error("tenant database creation failed", metadata: ["tenant_id": "\(id)", "database": "\(record.name)", "error": "\(Self.logText(error))"])
            await self.undo(record, tenant: id, logger: logger)
            throw error
        }
        guard try await self.repository.tenant(id)?.status == .active else {
            await self.undo(record, tenant: id, logger: logger)
            throw Self.invalidState("Tenant \(id) stopped being active while the database was created; it was removed again.")
        }
        logger.info("tenant database created", metadata: ["tenant_id": "\(id)", "type": "\(record.type.rawValue)", "database": "\(record.name)"])
        await self.invalidate(id, logger: logger)
        return TenantDatabaseResponse(record: record)
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
            logger.error("could not undo a tenant database", metadata: ["tenant_id": "\(tenant)", "database": "\(record.name)", "error": "\(Self.logText(error))"])
        }
    }

    // MARK: helpers

    /// Runs an idempotent step up to `attempts` times, waiting 100 ms, 200 ms, … in between, when it fails with a
    /// store error that may be transient (unreachable, timed out, or an unclassified server error); a conflict or
    /// invalid input fails at once. Seed 000 asks for retries with backoff; a tenant is only marked `failed` after them.
    @discardableResult
    static func retrying<Result: Sendable>(attempts: Int = 3, _ body: () async throws -> Result) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as DatabaseError where attempt < attempts && [.unavailable, .timeout, .internalError].contains(error.code) {
                try await Task.sleep(for: .milliseconds(100 << (attempt - 1)))
                attempt += 1
            }
        }
    }

    /// Drops the cached tenant. A Redis failure is logged and counted but does not fail the request: the write has
    /// happened, and the entry expires after the cache TTL (`TENANT_CACHE_TTL_SECONDS`).
    func invalidate(_ id: TenantID, logger: Logger) async {
        guard let cache = self.cache else { return }
        do {
            try await cache.invalidate(id.rawValue)
        } catch {
            self.metrics.incrementCounter(named: "tenant_cache_invalidation_failures", help: "Tenant cache entries that could not be invalidated")
            logger.warning("tenant cache invalidation failed; the entry expires with its TTL", metadata: ["tenant_id": "\(id)", "error": "\(error)"])
        }
    }

    /// `tenant-<8 hex>` from the system's secure random generator.
    static func generateID() throws(DatabaseError) -> TenantID {
        let hex = String(UInt32.random(in: .min ... .max), radix: 16)
        guard let id = TenantID("tenant-" + String(repeating: "0", count: 8 - hex.count) + hex) else {
            throw DatabaseError(.internalError, "Could not generate a tenant id.")
        }
        return id
    }

    /// The client-safe record of a failed step.
    static func operationError(step: String, error: any Error) -> TenantOperationError {
        switch error {
        case let error as DatabaseError:
            return TenantOperationError(step: step, code: error.code.rawValue, message: error.message, occurredAt: Date())
        case let error as APIError:
            return TenantOperationError(step: step, code: error.code, message: error.detail, occurredAt: Date())
        default:
            return TenantOperationError(step: step, code: "internal_error", message: "An unexpected error occurred.", occurredAt: Date())
        }
    }

    /// The HTTP error for a failed provisioning or deletion: 503 (with Retry-After) when a store was unreachable,
    /// 504 on a timeout, 409 on a name conflict, otherwise 500; the detail says what to call to finish.
    static func failure(_ failure: TenantOperationError, tenant: TenantID, action: String, retry: String) -> APIError {
        let detail = "Tenant \(tenant): \(action) failed at step \(failure.step) (\(failure.message)). Finish it with \(retry)."
        let code = "\(action == "deletion" ? "deletion" : "provisioning")_failed"
        switch failure.code {
        case DatabaseError.Code.unavailable.rawValue: return APIError(.serviceUnavailable, code: code, detail: detail, retryAfter: 5)
        case DatabaseError.Code.timeout.rawValue: return APIError(.gatewayTimeout, code: code, detail: detail)
        case DatabaseError.Code.conflict.rawValue: return APIError(.conflict, code: code, detail: detail)
        default: return APIError(.internalServerError, code: code, detail: detail)
        }
    }

    /// Server-side detail for the log: a DatabaseError's debug text (never a connection string), else the error.
    static func logText(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return "\(error.code.rawValue): \(error.debugDetails ?? error.message)" }
        return String(describing: error)
    }

    /// `404 not_found` for a tenant.
    static func notFound(_ id: TenantID) -> APIError { APIError.notFound("Tenant \(id) does not exist.") }
    /// `409 conflict` for a duplicate id or name.
    static func duplicate() -> APIError { APIError.conflict("A tenant with this id or name already exists.") }
    /// `409 invalid_state`: the tenant's status does not allow the request.
    static func invalidState(_ detail: String) -> APIError { APIError(.conflict, code: "invalid_state", detail: detail) }
}
