import DatabaseLayer

/// Body of fail: the holder's token, what went wrong, and whether to retry (default yes).
struct FailRequest: Decodable, Sendable {
    var claimToken: String
    var error: String
    var retryable: Bool?

    /// The wire names.
    enum CodingKeys: String, CodingKey {
        case claimToken = "claim_token"
        case error, retryable
    }

    /// Exactly these keys.
    static let rules = JSONBodyRules(allowed: ["claim_token", "error", "retryable"])

    /// The request after checking the token's shape and the error text's length.
    func validated() throws(TaskError) -> FailRequest {
        guard TaskLimits.errorBytes.contains(self.error.utf8.count) else {
            throw .invalidInput("error must be \(TaskLimits.errorBytes.lowerBound)-\(TaskLimits.errorBytes.upperBound) bytes.")
        }
        return FailRequest(claimToken: try TaskValidation.claimToken(self.claimToken), error: self.error, retryable: self.retryable)
    }

    /// Whether the worker wants another attempt.
    var wantsRetry: Bool { self.retryable ?? true }
}
