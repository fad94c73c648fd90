/// Where a tenant is in its lifecycle. Only the service moves a tenant between states; clients may only
/// switch between `active` and `suspended` (PUT) or ask for provisioning to be finished (`/provision`).
enum TenantStatus: String, Codable, Sendable, CaseIterable {
    /// Registered; its databases and schemas are being created (or a crash interrupted that: `/provision` resumes).
    case provisioning
    /// Fully provisioned and in service.
    case active
    /// Provisioned but switched off by an operator.
    case suspended
    /// A provisioning step failed; `provisioning_error` says which. `/provision` (or the same create) finishes it.
    case failed
    /// Its databases are being dropped; a failed drop leaves it here with `deletion_error`, and DELETE again finishes.
    case deleting
}
