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

    /// The request after checking the token's shape and the error text's length (in code points).
    func validated() throws(TaskError) -> FailRequest {
        // Code points, as the API description's `maxLength` counts: a limit in bytes would refuse non-ASCII texts
        // that the description allows.
        guard TaskLimits.errorLength.contains(self.error.unicodeScalars.count) else {
            throw .invalidInput("error must be \(TaskLimits.errorLength.lowerBound)-\(TaskLimits.errorLength.upperBound) characters.")
        }
        return FailRequest(claimToken: try TaskValidation.claimToken(self.claimToken), error: self.error, retryable: self.retryable)
    }

    /// Whether the worker wants another attempt.
    var wantsRetry: Bool { self.retryable ?? true }
}
