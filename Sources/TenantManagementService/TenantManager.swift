import DatabaseLayer
import Foundation
import Logging

/// The tenant lifecycle: registration, provisioning, updates, deletion and additional databases.
///
/// Every state change is a compare-and-set on the tenant's `status` in the registry, so concurrent requests (two
/// creates, a create and a `/provision`, a DELETE racing a PUT) resolve in the store, and whatever this process
/// crashes in the middle of can be finished by repeating the request. Errors are ``TenantError``s (or the stores'
/// ``DatabaseError``s); how they read over HTTP is not this type's concern.
struct TenantManager: Sendable {
    /// The registry.
    let repository: any TenantRepository
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

    // MARK: reads

    /// The tenant as the API returns it, or nil.
    func tenant(_ id: TenantID) async throws -> TenantResponse? {
        guard let tenant = try await self.repository.tenant(id) else { return nil }
        return TenantResponse(tenant: tenant, databases: try await self.repository.databases(of: id))
    }

    /// The tenant through the Redis read-through cache (straight from the registry when Redis is not configured).
    func cachedTenant(_ id: TenantID) async throws -> TenantResponse {
        let response: TenantResponse?
        if let cache = self.cache {
            response = try await cache.value(for: id.rawValue, as: TenantResponse.self) { try await self.tenant(id) }
        } else {
            response = try await self.tenant(id)
        }
        guard let response else { throw TenantError.notFound(id) }
        return response
    }

    /// One page of tenants.
    func tenants(filter: TenantListFilter, page: PageRequest) async throws -> Page<TenantResponse> {
        let tenants = try await self.repository.tenants(filter: filter, page: page)
        let databases = try await self.repository.databases(of: tenants.map(\.tenantID))
        let rows = tenants.map { TenantResponse(tenant: $0, databases: databases[$0.tenantID] ?? []) }
        return Page(rows: rows, request: page) { $0.tenant.pageCursor }
    }

    /// One page of all tenant databases.
    func databases(filter: TenantDatabaseListFilter, page: PageRequest) async throws -> Page<TenantDatabaseRecord> {
        Page(rows: try await self.repository.databases(filter: filter, page: page), request: page) { $0.pageCursor }
    }

    // MARK: update

    /// Applies a PUT. Status may only move between `active` and `suspended`; a `deleting` tenant cannot be changed.
    func update(_ id: TenantID, with request: UpdateTenantRequest, logger: Logger) async throws -> TenantResponse {
        let change = TenantChange(name: request.name, tier: request.tier, region: request.region, settings: request.settings, status: request.status)
        let allowed: [TenantStatus] = request.status == nil ? [.provisioning, .active, .suspended, .failed] : [.active, .suspended]
        let matched: Bool
        do {
            matched = try await self.repository.update(id, whenStatusIn: allowed, change)
        } catch let error as DatabaseError where error.code == .conflict {
            throw TenantError.conflict("Another tenant already has this name.")
        }
        guard matched else {
            guard let current = try await self.repository.tenant(id) else { throw TenantError.notFound(id) }
            if current.status == .deleting { throw TenantError.invalidState("Tenant \(id) is being deleted.") }
            throw TenantError.invalidState(
                "Tenant \(id) is \(current.status.rawValue); status can only change between active and suspended "
                    + "(use /provision for a failed tenant).")
        }
        logger.info("tenant updated", metadata: ["tenant_id": "\(id)", "fields": "\(change.fieldNames.joined(separator: ","))"])
        await self.invalidate(id, logger: logger)
        guard let response = try await self.tenant(id) else { throw TenantError.notFound(id) }
        return response
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

    /// Counts one provisioning or deletion attempt by result.
    func count(_ operation: String, success: Bool) {
        let help = operation == "tenants_deleted" ? "Tenant deletion attempts by result" : "Tenant provisioning attempts by result"
        self.metrics.incrementCounter(named: operation, help: help, labels: [("result", success ? "success" : "failure")])
    }
}
