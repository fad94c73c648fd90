import DatabaseLayer
import Foundation

/// The value rules of the user endpoints, in one place so the routes, the requests and the tests agree.
///
/// The patterns are ASCII-only on purpose: Unicode look-alikes in usernames and emails are how one account
/// impersonates another, and the database's CHECK constraints repeat the same rules as a second line of defence.
enum UserValidation {
    /// bcrypt reads at most 72 bytes; a longer password would silently match any password with the same prefix.
    static let maximumPasswordBytes = 72
    /// NIST SP 800-63B's minimum for user-chosen secrets.
    static let minimumPasswordCharacters = 8
    /// Keys in one user's preference set.
    static let maximumPreferences = 100

    /// An email of RFC 5321's lengths with one `@`, a dotted domain and no spaces or control characters.
    static func email(_ value: String) throws(UserError) -> String {
        let bytes = Array(value.utf8)
        guard (3...254).contains(bytes.count), bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidInput("email must be 3 to 254 printable ASCII characters without spaces.")
        }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].utf8.count), Self.isDomain(parts[1]) else {
            throw .invalidInput("email must look like name@example.com.")
        }
        return value
    }

    /// 3–64 characters: a letter or digit, then letters, digits, `.`, `_` or `-`.
    static func username(_ value: String) throws(UserError) -> String {
        let bytes = Array(value.utf8)
        guard (3...64).contains(bytes.count), let first = bytes.first, Self.isAlphanumeric(first),
            bytes.allSatisfy({ Self.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            throw .invalidInput("username must be 3 to 64 characters: a letter or digit, then letters, digits, '.', '_' or '-'.")
        }
        return value
    }

    /// At least 8 characters and at most 72 UTF-8 bytes, with no NUL (bcrypt's C code stops at one).
    static func password(_ value: String) throws(UserError) -> String {
        guard value.count >= Self.minimumPasswordCharacters else {
            throw .invalidPassword("password must have at least \(Self.minimumPasswordCharacters) characters.")
        }
        guard value.utf8.count <= Self.maximumPasswordBytes else {
            throw .invalidPassword("password must be at most \(Self.maximumPasswordBytes) bytes in UTF-8 (bcrypt ignores the rest).")
        }
        guard !value.utf8.contains(0) else { throw .invalidPassword("password may not contain NUL.") }
        return value
    }

    /// A lowercase word of up to 32 characters (`auth_provider`, tenant `role`).
    static func word(_ value: String, field: String) throws(UserError) -> String {
        let bytes = Array(value.utf8)
        guard (1...32).contains(bytes.count), let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            bytes.allSatisfy({ Self.isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            throw .invalidInput("\(field) must be 1 to 32 characters: a lowercase letter, then lowercase letters, digits, '_' or '-'.")
        }
        return value
    }

    /// A free-form JSON object stored as JSONB: plain keys and bounded nesting, like every stored document.
    static func profile(_ value: JSONObject) throws(UserError) -> JSONObject {
        do {
            try JSONBodyRules.checkDocument(.object(value), path: "profile", depth: 1)
        } catch {
            throw .invalidInput(error.detail)
        }
        try Self.refuseNUL(.object(value), path: "profile")
        return value
    }

    /// A preference key: 1–64 characters, a letter or digit first, then letters, digits, `_` or `-`. No `.`: the
    /// shared body rules refuse dotted keys in every body (`invalid_key`), so one rule holds for every service.
    static func preferenceKey(_ key: String) throws(UserError) -> String {
        let bytes = Array(key.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first, Self.isAlphanumeric(first),
            bytes.allSatisfy({ Self.isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            throw .invalidInput("preference keys must be 1 to 64 characters: a letter or digit, then letters, digits, '_' or '-'.")
        }
        return key
    }

    /// The preferences of a PUT: at most ``maximumPreferences`` valid keys with plain JSON values.
    static func preferences(_ value: JSONObject) throws(UserError) -> JSONObject {
        guard value.count <= Self.maximumPreferences else {
            throw .invalidInput("preferences may have at most \(Self.maximumPreferences) keys.")
        }
        for (key, member) in value {
            _ = try Self.preferenceKey(key)
            do {
                try JSONBodyRules.checkDocument(member, path: "preferences.\(key)", depth: 2)
            } catch {
                throw .invalidInput(error.detail)
            }
            try Self.refuseNUL(member, path: "preferences.\(key)")
        }
        return value
    }

    /// PostgreSQL's `jsonb` cannot store U+0000 in a string; refusing it here makes it a 400, not a failed INSERT.
    static func refuseNUL(_ value: JSONValue, path: String) throws(UserError) {
        switch value {
        case .string(let text) where text.utf8.contains(0):
            throw .invalidInput("\(path): strings may not contain NUL (U+0000).")
        case .object(let object):
            for (key, member) in object { try Self.refuseNUL(member, path: "\(path).\(key)") }
        case .array(let members):
            for member in members { try Self.refuseNUL(member, path: path) }
        default:
            return
        }
    }

    /// The `{user_id}` path segment as a UUID.
    static func userID(_ raw: String?) throws(UserError) -> UUID {
        guard let raw, raw.utf8.count == 36, let id = UUID(text: raw) else { throw .invalidUserID }
        return id
    }

    /// A dot with something on both sides (`[^@]+\\.[^@]+`, the OpenAPI pattern); DNS itself is not checked.
    private static func isDomain(_ domain: Substring) -> Bool {
        let bytes = Array(domain.utf8)
        return bytes.indices.dropFirst().dropLast().contains { bytes[$0] == UInt8(ascii: ".") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
