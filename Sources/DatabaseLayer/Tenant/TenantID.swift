import Foundation

/// A tenant id that has passed validation; the only way tenant input reaches a database, schema or collection name.
///
/// The pattern `^[a-z0-9][a-z0-9-]{0,39}$` (DESIGN §3) keeps every derived name a plain identifier:
/// no quotes, dots, dollars, slashes or non-ASCII can appear.
public struct TenantID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The validated id.
    public let rawValue: String

    /// The longest accepted id.
    public static let maximumLength = 40

    /// Validates `rawValue`; returns nil when it does not match the tenant id pattern.
    public init?(_ rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Whether `candidate` matches `^[a-z0-9][a-z0-9-]{0,39}$`.
    public static func isValid(_ candidate: String) -> Bool {
        let bytes = Array(candidate.utf8)
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        func isLowerAlnum(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) }
        return isLowerAlnum(first) && bytes.dropFirst().allSatisfy { isLowerAlnum($0) || $0 == 0x2D }
    }

    /// The tenant's MongoDB database: `tenant_<id>_db`, dashes mapped to underscores.
    public var mongoDatabaseName: String { "tenant_\(self.underscored)_db" }

    /// A PostgreSQL schema for one plugin: `tenant_<id>_<plugin>`; the plugin must itself be a safe identifier part.
    public func postgresSchemaName(plugin: String) throws(DatabaseError) -> SQLIdentifier {
        guard SQLIdentifier.isSafeNamePart(plugin) else {
            throw DatabaseError(.invalidInput, "Invalid plugin name.")
        }
        return try SQLIdentifier("tenant_\(self.underscored)_\(plugin)")
    }

    private var underscored: String { self.rawValue.replacingOccurrences(of: "-", with: "_") }

    /// The id itself.
    public var description: String { self.rawValue }

    /// Decodes and validates, so a bad id in a body fails decoding instead of travelling further.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = TenantID(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid tenant id"))
        }
        self = id
    }

    /// Encodes the raw id.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }
}
