import Foundation

/// A required variable is missing or malformed; the process prints ``description`` (one line) and exits.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The environment variable at fault.
    public let variable: String
    /// What is wrong with it; never contains the value, which may be a secret.
    public let reason: String

    /// Creates an error for `variable`.
    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    /// One line naming the variable.
    public var description: String { "configuration error: \(self.variable) \(self.reason)" }
}

/// Read-only access to environment variables with typed, validated accessors.
///
/// Variable names are passed verbatim (the reference's names: `TENANT_SERVICE_PORT`, `USER_DB_HOST`, …);
/// nothing maps or renames them. Error messages name the variable but never echo its value.
public struct ServiceEnvironment: Sendable {
    /// The variables.
    public let values: [String: String]

    /// Wraps an explicit set of variables (tests).
    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The process environment.
    public static var process: ServiceEnvironment { ServiceEnvironment(ProcessInfo.processInfo.environment) }

    /// The value, or nil when unset. An empty value counts as set.
    public func string(_ name: String) -> String? { self.values[name] }

    /// The value, or `defaultValue` when unset or empty.
    public func string(_ name: String, default defaultValue: String) -> String {
        guard let value = self.values[name], !value.isEmpty else { return defaultValue }
        return value
    }

    /// The value; throws when unset or empty.
    public func required(_ name: String) throws(ConfigurationError) -> String {
        guard let value = self.values[name], !value.isEmpty else {
            throw ConfigurationError(variable: name, reason: "is required but not set")
        }
        return value
    }

    /// An integer within `range`, or `defaultValue` when unset.
    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = self.values[name], !raw.isEmpty else { return defaultValue }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(variable: name, reason: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A TCP port (0 asks the OS for a free one), or `defaultValue` when unset.
    public func port(_ name: String, default defaultValue: Int) throws(ConfigurationError) -> Int {
        try self.int(name, default: defaultValue, range: 0...65535)
    }

    /// A MongoDB collection name from `name` (or `defaultValue`), validated so it can never address another namespace.
    public func collectionName(_ name: String, default defaultValue: String) throws(ConfigurationError) -> String {
        let value = self.string(name, default: defaultValue)
        guard MongoName.isValidCollectionName(value) else { throw ConfigurationError(variable: name, reason: "must be a plain collection name") }
        return value
    }

    /// A MongoDB database name from `name` (or `defaultValue`), validated the same way.
    public func databaseName(_ name: String, default defaultValue: String) throws(ConfigurationError) -> String {
        let value = self.string(name, default: defaultValue)
        guard MongoName.isValidDatabaseName(value) else { throw ConfigurationError(variable: name, reason: "must be a plain database name") }
        return value
    }
}
