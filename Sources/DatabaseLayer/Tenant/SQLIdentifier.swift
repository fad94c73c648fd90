/// A PostgreSQL identifier (schema, table, role) checked against a strict pattern, rendered double-quoted.
///
/// Identifiers cannot be bound as `$n` parameters, so anything derived from input must pass through here first.
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The unquoted name.
    public let name: String

    /// Accepts `^[a-z_][a-z0-9_]{0,62}$` (63 bytes is PostgreSQL's NAMEDATALEN limit).
    public init(_ name: String) throws(DatabaseError) {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63,
            first == 0x5F || (first >= 0x61 && first <= 0x7A),
            bytes.allSatisfy({ $0 == 0x5F || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) })
        else {
            throw DatabaseError(.invalidInput, "Invalid identifier.", debugDetails: "rejected identifier of \(bytes.count) bytes")
        }
        self.name = name
    }

    /// Whether `part` may be embedded in a generated identifier (lowercase letters, digits, underscore; 1-20 bytes).
    public static func isSafeNamePart(_ part: String) -> Bool {
        let bytes = Array(part.utf8)
        return !bytes.isEmpty && bytes.count <= 20
            && bytes.allSatisfy { $0 == 0x5F || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// The quoted form for SQL text; safe because the pattern excludes `"`.
    public var quoted: String { "\"\(self.name)\"" }

    /// The quoted form.
    public var description: String { self.quoted }
}
