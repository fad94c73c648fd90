import Foundation
/// How to reach MongoDB: a connection string plus the database this service works in.
public struct MongoConfiguration: Sendable {
    /// The `mongodb://` connection string. Never logged: it may carry a password.
    public var uri: String
    /// The database the service's collections live in.
    public var database: String
    /// Upper bound on pooled clients (`maxPoolSize`), which is also the size of the blocking-call thread pool.
    public var maximumConnections: Int
    /// How long an operation waits for a pooled client or server selection, in milliseconds.
    public var timeoutMilliseconds: Int
    /// The name reported to the server (`appname`).
    public var applicationName: String

    /// Creates a configuration; `uri` must start with `mongodb://` or `mongodb+srv://`.
    public init(
        uri: String, database: String, maximumConnections: Int = 10, timeoutMilliseconds: Int = 5000,
        applicationName: String = "prismicx", variable: String = "MONGODB_URI"
    ) throws(ConfigurationError) {
        guard uri.hasPrefix("mongodb://") || uri.hasPrefix("mongodb+srv://") else {
            throw ConfigurationError(variable: variable, reason: "must be a mongodb:// connection string")
        }
        guard MongoName.isValidDatabaseName(database) else {
            throw ConfigurationError(variable: variable, reason: "names an invalid database")
        }
        self.uri = uri
        self.database = database
        self.maximumConnections = max(1, maximumConnections)
        self.timeoutMilliseconds = timeoutMilliseconds
        self.applicationName = applicationName
    }

    /// The database named in the URI's path (`mongodb://host/db?…` → `db`), if any.
    public static func databaseName(inURI uri: String) -> String? {
        guard let schemeEnd = uri.range(of: "://") else { return nil }
        let rest = uri[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let path = rest[rest.index(after: slash)...].prefix(while: { $0 != "?" })
        return path.isEmpty ? nil : String(path)
    }
}

/// Validation of MongoDB database and collection names derived from input.
public enum MongoName {
    /// `^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$`: no dots, dollars, slashes, spaces or NULs; within MongoDB's 64-byte limit.
    public static func isValidDatabaseName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63, first != 0x2D else { return false }
        return bytes.allSatisfy { isWordByte($0) || $0 == 0x2D }
    }

    /// `^[A-Za-z_][A-Za-z0-9_]{0,119}$`: collection names never start with `system.` or contain `$`.
    public static func isValidCollectionName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 120, !(first >= 0x30 && first <= 0x39) else { return false }
        return bytes.allSatisfy(isWordByte)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
    }
}

extension MongoConfiguration {
    /// Reads a connection string from `uriVariable` (required) and the pool size from `MONGO_POOL_MAX`.
    /// - Parameters:
    ///   - environment: the variables.
    ///   - uriVariable: e.g. `MONGODB_URI` or `TENANT_MONGODB_URI`.
    ///   - database: the database to work in (already resolved from its own variable or the URI).
    ///   - applicationName: reported to the server.
    public init(environment: ServiceEnvironment, uriVariable: String, database: String, applicationName: String) throws(ConfigurationError) {
        try self.init(
            uri: try environment.required(uriVariable), database: database,
            maximumConnections: try environment.int("MONGO_POOL_MAX", default: 10, range: 1...500),
            timeoutMilliseconds: try environment.int("MONGO_TIMEOUT_MS", default: 5000, range: 100...600_000),
            applicationName: applicationName, variable: uriVariable
        )
    }
}
