import DatabaseLayer

/// Body of complete: the holder's token and an optional result.
struct CompleteRequest: Decodable, Sendable {
    var claimToken: String
    var result: JSONValue?

    /// The wire names.
    enum CodingKeys: String, CodingKey {
        case claimToken = "claim_token"
        case result
    }

    /// `result` is free-form; ``JSONBodyRules`` still refuses operator or dotted keys inside it.
    static let rules = JSONBodyRules(allowed: ["claim_token", "result"])

    /// The request after checking the token's shape.
    func validated() throws(TaskError) -> CompleteRequest {
        CompleteRequest(claimToken: try TaskValidation.claimToken(self.claimToken), result: self.result)
    }
}
