import DatabaseLayer

/// Body of heartbeat: the holder's token and the new lease length.
struct HeartbeatRequest: Decodable, Sendable {
    var claimToken: String
    var leaseSeconds: Int

    /// The wire names.
    enum CodingKeys: String, CodingKey {
        case claimToken = "claim_token"
        case leaseSeconds = "lease_seconds"
    }

    /// Exactly these two keys.
    static let rules = JSONBodyRules(allowed: ["claim_token", "lease_seconds"])

    /// The request after checking the token's shape and the lease.
    func validated() throws(TaskError) -> HeartbeatRequest {
        HeartbeatRequest(claimToken: try TaskValidation.claimToken(self.claimToken), leaseSeconds: try TaskValidation.leaseSeconds(self.leaseSeconds))
    }
}
