import HTTPTypes
import DatabaseLayer

/// Validation of everything a client sends. Each rule is strict and ASCII-only on purpose: tenant ids and database
/// names become MongoDB database names and PostgreSQL identifiers, and names are shown to operators; rejecting
/// early (400, nothing written) is simpler to reason about than escaping late.
enum TenantValidation {
    /// Longest display name.
    static let maximumNameLength = 100
    /// Longest tier or region token.
    static let maximumTokenLength = 32
    /// Deepest nesting accepted in `settings` (bounded so a hostile body cannot exhaust the stack when encoded).
    static let maximumSettingsDepth = 16

    /// Parses a tenant id from a path, body or query; `400 invalid_tenant` when it does not match the pattern.
    static func tenantID(_ raw: String, field: String = "tenant_id") throws(APIError) -> TenantID {
        guard let id = TenantID(raw) else {
            throw APIError(
                .badRequest, code: "invalid_tenant",
                detail: "\(field) must be 1-40 characters of lowercase letters, digits and '-', starting with a letter or digit.")
        }
        return id
    }

    /// A display name: 1-100 printable ASCII characters from letters, digits, space and `_ . , & ' ( ) -`,
    /// starting with a letter or digit and not ending in a space.
    static func name(_ raw: String) throws(APIError) -> String {
        let bytes = Array(raw.utf8)
        func isAlnum(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) }
        let punctuation: Set<UInt8> = Set(" _.,&'()-".utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maximumNameLength, isAlnum(first), last != 0x20,
            bytes.allSatisfy({ isAlnum($0) || punctuation.contains($0) })
        else {
            throw APIError.badRequest(
                "name must be 1-\(maximumNameLength) characters of ASCII letters, digits, spaces and _ . , & ' ( ) -, starting with a letter or digit.")
        }
        return raw
    }

    /// A tier or region: `^[a-z0-9][a-z0-9_-]{0,31}$`.
    static func token(_ raw: String, field: String) throws(APIError) -> String {
        let bytes = Array(raw.utf8)
        func isLowerAlnum(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) }
        guard let first = bytes.first, bytes.count <= maximumTokenLength, isLowerAlnum(first),
            bytes.allSatisfy({ isLowerAlnum($0) || $0 == 0x2D || $0 == 0x5F })
        else {
            throw APIError.badRequest("\(field) must be 1-\(maximumTokenLength) characters of lowercase letters, digits, '-' and '_', starting with a letter or digit.")
        }
        return raw
    }

    /// Free JSON settings, checked so MongoDB can store them as they are: no key may be empty, start with `$`,
    /// contain `.` or NUL (MongoDB reads those as operators or paths), and nesting is bounded.
    static func settings(_ value: JSONValue) throws(APIError) -> JSONObject {
        guard case .object(let object) = value else { throw APIError.badRequest("settings must be a JSON object.", code: "invalid_body") }
        try self.checkSettings(.object(object), depth: 0)
        return object
    }

    /// Walks a settings value, checking keys and depth.
    private static func checkSettings(_ value: JSONValue, depth: Int) throws(APIError) {
        guard depth <= maximumSettingsDepth else {
            throw APIError.badRequest("settings may be nested at most \(maximumSettingsDepth) levels deep.")
        }
        switch value {
        case .object(let object):
            for (key, member) in object {
                guard !key.isEmpty, !key.hasPrefix("$"), !key.contains("."), !key.unicodeScalars.contains("\0") else {
                    throw APIError.badRequest("settings keys must be non-empty and may not start with '$' or contain '.'.")
                }
                try self.checkSettings(member, depth: depth + 1)
            }
        case .array(let values):
            for member in values { try self.checkSettings(member, depth: depth + 1) }
        default:
            return
        }
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
}

/// Reads typed members of a request body, rejecting unknown and server-owned fields by name.
struct TenantBodyReader {
    private let object: JSONObject

    /// Checks `object` against the accepted and the server-owned fields.
    init(_ object: JSONObject, accepted: Set<String>, serverOwned: Set<String>) throws(APIError) {
        for key in object.keys {
            if serverOwned.contains(key) {
                throw APIError.badRequest("\(key) is set by the server and may not be sent.", code: "invalid_body")
            }
            guard accepted.contains(key) else {
                throw APIError.badRequest("\(key) is not a field of this request.", code: "invalid_body")
            }
        }
        self.object = object
    }

    /// Whether the body has `key` with a non-null value.
    func has(_ key: String) -> Bool {
        guard let value = self.object[key] else { return false }
        return value != .null
    }

    /// The string at `key`, nil when absent or null; 400 when it is another type.
    func string(_ key: String) throws(APIError) -> String? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw APIError.badRequest("\(key): expected a string.", code: "invalid_body")
        }
    }

    /// The raw value at `key`, nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = self.object[key], value != .null else { return nil }
        return value
    }

    /// The keys present.
    var keys: [String] { self.object.keys }
}

/// The fields a client may never send: the service owns them.
let tenantServerOwnedFields: Set<String> = ["_id", "status", "created_at", "updated_at", "provisioning_error", "deletion_error", "name_key"]

/// `POST /api/v1/tenants`, validated.
struct CreateTenantRequest: Sendable, Equatable {
    /// The id the client chose, or nil for a generated `tenant-<8 hex>`.
    var tenantID: TenantID?
    /// Display name.
    var name: String
    /// Tier (default `standard`).
    var tier: String
    /// Region (default `default`).
    var region: String
    /// Settings (default `{}`).
    var settings: JSONObject
    /// Always `shared`: the only type this service provisions.
    var databaseType: TenantDatabaseType

    /// Validates a body. `status` and timestamps are rejected rather than ignored, so a client that believes it
    /// can set them learns at once that it cannot.
    init(body: JSONObject) throws(APIError) {
        let reader = try TenantBodyReader(
            body, accepted: ["tenant_id", "name", "tier", "region", "settings", "database_config"], serverOwned: tenantServerOwnedFields)
        self.tenantID = try reader.string("tenant_id").map { raw throws(APIError) in try TenantValidation.tenantID(raw) }
        guard let name = try reader.string("name") else { throw APIError.badRequest("name: required field is missing.", code: "invalid_body") }
        self.name = try TenantValidation.name(name)
        self.tier = try TenantValidation.token(reader.string("tier") ?? "standard", field: "tier")
        self.region = try TenantValidation.token(reader.string("region") ?? "default", field: "region")
        self.settings = try reader.value("settings").map { value throws(APIError) in try TenantValidation.settings(value) } ?? JSONObject()
        self.databaseType = .shared
        if let config = reader.value("database_config") {
            guard case .object(let object) = config else { throw APIError.badRequest("database_config must be a JSON object.", code: "invalid_body") }
            let configReader = try TenantBodyReader(
                object, accepted: ["type"], serverOwned: ["database_name", "connection_string", "postgres_database", "mongodb_databases", "postgresql_schemas"])
            switch try configReader.string("type") {
            case nil, "shared": self.databaseType = .shared
            case "dedicated":
                throw APIError.badRequest(
                    "database_config.type dedicated is not provisioned by this service; dedicated servers are set up by operators.", code: "unsupported_database_type")
            default: throw APIError.badRequest("database_config.type must be shared or dedicated.")
            }
        }
    }
}

/// `PUT /api/v1/tenants/{id}`, validated: any subset of name, tier, region, settings and status.
struct UpdateTenantRequest: Sendable, Equatable {
    /// New display name.
    var name: String?
    /// New tier.
    var tier: String?
    /// New region.
    var region: String?
    /// Replacement settings (the whole object: PUT replaces, it does not merge).
    var settings: JSONObject?
    /// `active` or `suspended`.
    var status: TenantStatus?

    /// Validates a body; other fields (id, database configuration, timestamps) are rejected by name.
    init(body: JSONObject) throws(APIError) {
        var owned = tenantServerOwnedFields
        owned.remove("status")
        owned.formUnion(["tenant_id", "database_config"])
        let reader = try TenantBodyReader(body, accepted: ["name", "tier", "region", "settings", "status"], serverOwned: owned)
        self.name = try reader.string("name").map { raw throws(APIError) in try TenantValidation.name(raw) }
        self.tier = try reader.string("tier").map { raw throws(APIError) in try TenantValidation.token(raw, field: "tier") }
        self.region = try reader.string("region").map { raw throws(APIError) in try TenantValidation.token(raw, field: "region") }
        self.settings = try reader.value("settings").map { value throws(APIError) in try TenantValidation.settings(value) }
        if let status = try reader.string("status") {
            guard let parsed = TenantStatus(rawValue: status), parsed == .active || parsed == .suspended else {
                throw APIError.badRequest("status may only be set to active or suspended; provisioning and deletion set the others.")
            }
            self.status = parsed
        }
        guard self.name != nil || self.tier != nil || self.region != nil || self.settings != nil || self.status != nil else {
            throw APIError.badRequest("Send at least one of name, tier, region, settings, status.", code: "invalid_body")
        }
    }
}

/// `POST /api/v1/databases`, validated.
struct CreateTenantDatabaseRequest: Sendable, Equatable {
    /// The owning tenant.
    var tenantID: TenantID
    /// MongoDB database or PostgreSQL schema.
    var type: TenantStoreKind
    /// The full name: `tenant_<id>_<part>`.
    var name: String

    /// Validates a body. `name` is the part after `tenant_<id>_` (`analytics`), or the full name with that prefix.
    init(body: JSONObject) throws(APIError) {
        let reader = try TenantBodyReader(body, accepted: ["tenant_id", "type", "name"], serverOwned: ["_id", "created_at", "primary"])
        guard let rawID = try reader.string("tenant_id") else { throw APIError.badRequest("tenant_id: required field is missing.", code: "invalid_body") }
        self.tenantID = try TenantValidation.tenantID(rawID)
        guard let rawType = try reader.string("type") else { throw APIError.badRequest("type: required field is missing.", code: "invalid_body") }
        guard let type = TenantStoreKind(rawValue: rawType) else { throw APIError.badRequest("type must be mongodb or postgresql.") }
        self.type = type
        guard let rawName = try reader.string("name") else { throw APIError.badRequest("name: required field is missing.", code: "invalid_body") }
        self.name = try Self.fullName(rawName, tenant: self.tenantID, type: type)
    }

    /// `tenant_<id>_<part>` after validating the part, and the whole name against the store's identifier rules.
    static func fullName(_ raw: String, tenant: TenantID, type: TenantStoreKind) throws(APIError) -> String {
        let prefix = String(tenant.mongoDatabaseName.dropLast(2))  // "tenant_<id>_"
        let part = raw.hasPrefix(prefix) ? String(raw.dropFirst(prefix.utf8.count)) : raw
        guard TenantValidation.databasePart(part) else {
            throw APIError.badRequest(
                "name must be 1-20 lowercase letters and digits starting with a letter (optionally prefixed with \(prefix)); the database is named \(prefix)<name>.",
                code: "invalid_database_name")
        }
        let full = prefix + part
        let valid: Bool
        switch type {
        case .mongodb: valid = MongoName.isValidDatabaseName(full)
        case .postgresql: valid = (try? SQLIdentifier(full)) != nil
        }
        guard valid else {
            throw APIError.badRequest("\(full) is longer than the 63 bytes a database or schema name may have.", code: "invalid_database_name")
        }
        return full
    }
}

/// Filters of `GET /api/v1/tenants`.
struct TenantListFilter: Sendable, Equatable {
    /// Only this status.
    var status: TenantStatus?
    /// Only this tier.
    var tier: String?
    /// Only this region.
    var region: String?

    /// Reads `status`, `tier` and `region` from the query; `400 invalid_query` for a value that cannot match.
    init(query: [String: String]) throws(APIError) {
        if let raw = query["status"] {
            guard let status = TenantStatus(rawValue: raw) else {
                throw APIError.badRequest("status must be one of \(TenantStatus.allCases.map(\.rawValue).joined(separator: ", ")).", code: "invalid_query")
            }
            self.status = status
        }
        do {
            self.tier = try query["tier"].map { raw throws(APIError) in try TenantValidation.token(raw, field: "tier") }
            self.region = try query["region"].map { raw throws(APIError) in try TenantValidation.token(raw, field: "region") }
        } catch {
            throw APIError.badRequest(error.detail, code: "invalid_query")
        }
    }
}

/// Filters of `GET /api/v1/databases`.
struct TenantDatabaseListFilter: Sendable, Equatable {
    /// Only this tenant's.
    var tenantID: TenantID?
    /// Only this kind.
    var type: TenantStoreKind?

    /// Reads `tenant_id` and `type` from the query.
    init(query: [String: String]) throws(APIError) {
        if let raw = query["tenant_id"] {
            guard let id = TenantID(raw) else { throw APIError.badRequest("tenant_id is not a valid tenant id.", code: "invalid_query") }
            self.tenantID = id
        }
        if let raw = query["type"] {
            guard let type = TenantStoreKind(rawValue: raw) else { throw APIError.badRequest("type must be mongodb or postgresql.", code: "invalid_query") }
            self.type = type
        }
    }
}
