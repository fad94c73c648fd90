import DatabaseLayer

/// The fields one registry update sets or clears; the repository adds `updated_at` (and `name_key` with a name).
///
/// Typed rather than a MongoDB `$set` document, so the manager does not depend on how a repository stores tenants.
struct TenantChange: Sendable, Equatable {
    /// New display name.
    var name: String?
    /// New tier.
    var tier: String?
    /// New region.
    var region: String?
    /// Replacement settings.
    var settings: JSONObject?
    /// New status.
    var status: TenantStatus?
    /// Records a provisioning failure.
    var provisioningError: TenantOperationError?
    /// Records a deletion failure.
    var deletionError: TenantOperationError?
    /// Removes `provisioning_error` (provisioning succeeded).
    var clearProvisioningError = false

    /// A change of status only.
    static func status(_ status: TenantStatus) -> TenantChange { TenantChange(status: status) }

    /// The names of the fields that change, for the log (never values).
    var fieldNames: [String] {
        var names: [String] = []
        if self.name != nil { names.append("name") }
        if self.tier != nil { names.append("tier") }
        if self.region != nil { names.append("region") }
        if self.settings != nil { names.append("settings") }
        if self.status != nil { names.append("status") }
        return names
    }
}
