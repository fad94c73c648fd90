import DatabaseLayer

/// Validation of everything a client sends. Each rule is strict and ASCII-only on purpose: tenant ids and database
/// names become MongoDB database names and PostgreSQL identifiers, and names are shown to operators; rejecting
/// early (400, nothing written) is simpler to reason about than escaping late.
///
/// Which keys a body may carry, operator keys and nesting depth are checked by DatabaseLayer's ``JSONBodyRules``
/// (the same rules in every service); this type only checks the values.
enum TenantValidation {
    /// Longest display name.
    static let maximumNameLength = 100
    /// Longest tier or region token.
    static let maximumTokenLength = 32

    /// Parses a tenant id from a path, body or query; `400 invalid_tenant` when it does not match the pattern.
    static func tenantID(_ raw: String, field: String = "tenant_id") throws(APIError) -> TenantID {
        guard let id = TenantID(raw) else {
            throw APIError.badRequest(
                "\(field) must be 1-40 characters of lowercase letters, digits and '-', starting with a letter or digit.", code: "invalid_tenant")
        }
        return id
    }

    /// A display name: 1-100 printable ASCII characters from letters, digits, space and `_ . , & ' ( ) -`,
    /// starting with a letter or digit and not ending in a space.
    static func name(_ raw: String) throws(APIError) -> String {
        let bytes = Array(raw.utf8)
        let punctuation: Set<UInt8> = Set(" _.,&'()-".utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maximumNameLength, Self.isAlphanumeric(first), last != 0x20,
            bytes.allSatisfy({ Self.isAlphanumeric($0) || punctuation.contains($0) })
        else {
            throw APIError.badRequest(
                "name must be 1-\(maximumNameLength) characters of ASCII letters, digits, spaces and _ . , & ' ( ) -, "
                    + "starting with a letter or digit and not ending in a space.")
        }
        return raw
    }

    /// A tier or region: `^[a-z0-9][a-z0-9_-]{0,31}$`.
    static func token(_ raw: String, field: String) throws(APIError) -> String {
        let bytes = Array(raw.utf8)
        guard let first = bytes.first, bytes.count <= maximumTokenLength, Self.isLowerAlphanumeric(first),
            bytes.allSatisfy({ Self.isLowerAlphanumeric($0) || $0 == 0x2D || $0 == 0x5F })
        else {
            throw APIError.badRequest(
                "\(field) must be 1-\(maximumTokenLength) characters of lowercase letters, digits, '-' and '_', starting with a letter or digit.")
        }
        return raw
    }

    /// Free JSON settings: an object. Its keys and depth have already been checked by ``JSONBodyRules``.
    static func settings(_ value: JSONValue) throws(APIError) -> JSONObject {
        guard case .object(let object) = value else { throw APIError.badRequest("settings must be a JSON object.", code: "invalid_body") }
        return object
    }

    /// The name part a client gives for an additional database: `^[a-z][a-z0-9]{0,19}$`.
    ///
    /// No underscore: the full name is `tenant_<id>_<part>`, and since ids map `-` to `_`, an underscore in the part
    /// could make one tenant's name equal another tenant's (`a` + `b_db` = `a-b` + `db`).
    static func databasePart(_ raw: String) -> Bool {
        let bytes = Array(raw.utf8)
        guard let first = bytes.first, bytes.count <= 20, first >= 0x61 && first <= 0x7A else { return false }
        return bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// The string member `key` of a body: nil when absent or null, `400 invalid_body` for another type.
    static func string(_ body: JSONObject, _ key: String) throws(APIError) -> String? {
        switch body[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw APIError.badRequest("\(key): expected a string.", code: "invalid_body")
        }
    }

    /// A required string member; `400 invalid_body` when it is missing.
    static func requiredString(_ body: JSONObject, _ key: String) throws(APIError) -> String {
        guard let value = try Self.string(body, key) else { throw APIError.badRequest("\(key): required field is missing.", code: "invalid_body") }
        return value
    }

    /// The member `key`, nil when absent or null.
    static func value(_ body: JSONObject, _ key: String) -> JSONValue? {
        guard let value = body[key], value != .null else { return nil }
        return value
    }

    /// An ASCII letter or digit.
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// An ASCII lowercase letter or digit.
    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) }
}
