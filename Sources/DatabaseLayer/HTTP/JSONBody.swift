public import Hummingbird

/// What a JSON request body may contain, checked before it is decoded or stored.
///
/// Every service reads bodies through ``Hummingbird/Request/decodeJSONBody(as:context:rules:)``, so the same
/// rules hold everywhere: the body is one object, keys the server owns are refused by name, unknown keys are
/// refused, and no key at any depth can be read by MongoDB as an operator or a path.
public struct JSONBodyRules: Sendable {
    /// Top-level keys a client may send.
    public var allowed: Set<String>
    /// Top-level keys the server owns (`id`, `status`, `created_at`, …): refused with `read_only_field`.
    public var serverOwned: Set<String>
    /// Deepest nesting accepted anywhere in the body; a hostile body cannot exhaust the stack later.
    public var maximumDepth: Int

    /// Creates rules.
    public init(allowed: Set<String>, serverOwned: Set<String> = [], maximumDepth: Int = 16) {
        self.allowed = allowed
        self.serverOwned = serverOwned
        self.maximumDepth = maximumDepth
    }

    /// Checks `body` against the rules; a violation is a 400 problem that names the field, never its value.
    public func check(_ body: JSONObject) throws(APIError) {
        let owned = body.keys.filter { self.serverOwned.contains($0) }.sorted()
        guard owned.isEmpty else {
            throw APIError.badRequest(
                "These fields are set by the server and cannot be sent: \(owned.joined(separator: ", ")).", code: "read_only_field")
        }
        let unknown = body.keys.filter { !self.allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw APIError.badRequest("Unknown fields: \(unknown.joined(separator: ", ")).", code: "unknown_field")
        }
        for (key, value) in body { try Self.checkDocument(value, path: key, depth: 1, maximumDepth: self.maximumDepth) }
    }

    /// Checks a free-form value that will be stored as a MongoDB document: no key may be empty, start with `$`,
    /// contain `.` or NUL (MongoDB reads those as operators or paths), and nesting stays within `maximumDepth`.
    /// - Parameters:
    ///   - value: the value to walk.
    ///   - path: the field name used in the error (`request`, `settings.theme`).
    public static func checkDocument(_ value: JSONValue, path: String, depth: Int = 0, maximumDepth: Int = 16) throws(APIError) {
        guard depth <= maximumDepth else {
            throw APIError.badRequest("\(path): nested deeper than \(maximumDepth) levels.", code: "too_deep")
        }
        switch value {
        case .object(let object):
            for (key, member) in object {
                guard Self.isPlainKey(key) else {
                    throw APIError.badRequest("\(path): keys must be non-empty and may not start with '$' or contain '.'.", code: "invalid_key")
                }
                try Self.checkDocument(member, path: "\(path).\(key)", depth: depth + 1, maximumDepth: maximumDepth)
            }
        case .array(let values):
            for member in values { try Self.checkDocument(member, path: path, depth: depth + 1, maximumDepth: maximumDepth) }
        default:
            return
        }
    }

    /// A key MongoDB stores as data, not as an operator (`$set`) or a dotted path (`a.b`).
    static func isPlainKey(_ key: String) -> Bool {
        guard let first = key.utf8.first, first != UInt8(ascii: "$") else { return false }
        return !key.utf8.contains(UInt8(ascii: ".")) && !key.utf8.contains(0)
    }
}

extension Request {
    /// Reads the body as one JSON object, checks it against `rules`, then decodes it as `T`.
    ///
    /// Every failure is a 4xx problem: 415 for a non-JSON content type, 400 for an empty or malformed body, a
    /// wrong type (naming the field), a server-owned or unknown key, an operator key or nesting that is too deep.
    public func decodeJSONBody<T: Decodable>(as type: T.Type, context: ServiceRequestContext, rules: JSONBodyRules) async throws -> T {
        let object = try await self.decodeJSONObject(context: context, rules: rules)
        do {
            return try object.decode(T.self)
        } catch let error as DecodingError {
            throw APIError.badRequest(Problem.describe(error), code: "invalid_body")
        }
    }

    /// Reads the body as one JSON object and checks it against `rules`, for handlers that need the raw members
    /// (for example to tell an absent field from an explicit null).
    public func decodeJSONObject(context: ServiceRequestContext, rules: JSONBodyRules) async throws -> JSONObject {
        let value = try await self.decode(as: JSONValue.self, context: context)
        guard case .object(let object) = value else { throw APIError.badRequest("The body must be a JSON object.", code: "invalid_body") }
        try rules.check(object)
        return object
    }
}
