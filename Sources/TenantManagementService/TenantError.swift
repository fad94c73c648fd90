import DatabaseLayer

/// What can go wrong in the tenant lifecycle, in domain terms: no status codes, headers or paths here.
/// `TenantError+HTTPResponseError.swift` says how each case reads over HTTP.
enum TenantError: Error, Sendable, Equatable {
    /// No tenant with this id.
    case notFound(TenantID)
    /// The id, the name or a database name is taken; the detail says which.
    case conflict(String)
    /// The tenant's status does not allow the request; the detail says why and what to do instead.
    case invalidState(String)
    /// A provisioning step failed after its retries; the tenant is `failed` (or still `provisioning`).
    case provisioningFailed(TenantOperationError, tenant: TenantID)
    /// A deletion step failed after its retries; the tenant stays `deleting` with `deletion_error`.
    case deletionFailed(TenantOperationError, tenant: TenantID)

    /// A duplicate id or name.
    static let duplicate = TenantError.conflict("A tenant with this id or name already exists.")
}
