import Foundation

/// Hides credentials in connection strings before they leave the service.
///
/// `mongodb://user:secret@host:27017/db?authSource=admin` becomes `mongodb://user:****@host:27017/db?authSource=admin`;
/// query parameters that carry secrets (`password=`, `…Password=`, `secret`, `token`) are masked too. Anything that does
/// not look like `scheme://…` is masked entirely, so an unexpected format can never leak.
enum ConnectionStringMask {
    /// The replacement text.
    static let placeholder = "****"

    /// The masked form of `value`.
    static func mask(_ value: String) -> String {
        guard let schemeEnd = value.range(of: "://") else { return value.isEmpty ? value : placeholder }
        let scheme = value[..<schemeEnd.lowerBound]
        let rest = value[schemeEnd.upperBound...]
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        var location = String(rest[..<queryStart])
        // The last '@' before the query ends the user info, even when an unencoded password contains '/' or '@'.
        if let at = location.lastIndex(of: "@") {
            let userInfo = location[..<at]
            let hostAndPath = location[location.index(after: at)...]
            let user = userInfo.prefix(while: { $0 != ":" })
            let maskedUserInfo = userInfo.contains(":") ? "\(user):\(placeholder)" : String(user)
            location = "\(maskedUserInfo)@\(hostAndPath)"
        }
        guard queryStart < rest.endIndex else { return "\(scheme)://\(location)" }
        let query = rest[rest.index(after: queryStart)...]
        let maskedQuery = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let key = pair[..<equals]
            return Self.isSecretParameter(String(key)) ? "\(key)=\(placeholder)" : String(pair)
        }
        return "\(scheme)://\(location)?\(maskedQuery.joined(separator: "&"))"
    }

    /// Whether a query parameter names a secret (libpq `password`, libmongoc `tlsCertificateKeyFilePassword`, tokens).
    static func isSecretParameter(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return ["password", "secret", "token", "sslkey", "credential"].contains { lowered.contains($0) }
    }
}
