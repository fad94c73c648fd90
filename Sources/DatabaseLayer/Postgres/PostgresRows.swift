internal import CLibPQ
public import Foundation

/// The rows of one result, copied out of the `PGresult` (text format) so it can be freed at once.
public struct PostgresRows: Sendable, Sequence {
    /// Column names in result order.
    public let columns: [String]
    /// Rows in result order.
    public let rows: [PostgresRow]
    /// Rows affected by a command (INSERT/UPDATE/DELETE without RETURNING).
    public let affectedRows: Int

    init(result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let index = Dictionary(columns.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        self.columns = columns
        self.rows = (0..<rowCount).map { row in
            PostgresRow(
                columnIndex: index,
                values: (0..<columnCount).map { column in
                    PQgetisnull(result, Int32(row), Int32(column)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
                }
            )
        }
        self.affectedRows = Int(String(cString: PQcmdTuples(result))) ?? rowCount
    }

    init(affectedRows: Int) {
        self.columns = []
        self.rows = []
        self.affectedRows = affectedRows
    }

    /// Iterates the rows.
    public func makeIterator() -> IndexingIterator<[PostgresRow]> { self.rows.makeIterator() }

    /// The first row, if any.
    public var first: PostgresRow? { self.rows.first }
}

/// One row; values are decoded on access by column name.
public struct PostgresRow: Sendable {
    let columnIndex: [String: Int]
    /// Raw text values (nil for SQL NULL), in column order.
    public let values: [String?]

    /// Decodes column `name` as `T`; throws when the column is missing, NULL or not a `T`.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws(DatabaseError) -> T {
        guard let value = try self.decodeIfPresent(name, as: type) else {
            throw DatabaseError(.internalError, "Unexpected NULL in a result.", debugDetails: "column \(name) is NULL")
        }
        return value
    }

    /// Decodes column `name` as `T`, or nil for SQL NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws(DatabaseError) -> T? {
        guard let index = self.columnIndex[name] else {
            throw DatabaseError(.internalError, "Unexpected result shape.", debugDetails: "no column \(name)")
        }
        guard let text = self.values[index] else { return nil }
        guard let value = T(postgresText: text) else {
            throw DatabaseError(.internalError, "Unexpected value in a result.", debugDetails: "column \(name) is not \(T.self)")
        }
        return value
    }
}

/// A value that can be bound as a text-format query parameter.
public protocol PostgresBindable: Sendable {
    /// The text form PostgreSQL parses for the parameter's type.
    var postgresText: String { get }
}

/// A value that can be read from a text-format result column.
public protocol PostgresDecodable {
    /// Parses the text form; nil when it is not valid for this type.
    init?(postgresText: String)
}

extension String: PostgresBindable, PostgresDecodable {
    /// The string itself.
    public var postgresText: String { self }
    /// The text itself.
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresBindable, PostgresDecodable {
    /// Decimal text.
    public var postgresText: String { String(self) }
    /// Parses decimal text.
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresBindable, PostgresDecodable {
    /// Decimal text.
    public var postgresText: String { String(self) }
    /// Parses decimal text.
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresBindable, PostgresDecodable {
    /// Decimal text.
    public var postgresText: String { String(self) }
    /// Parses decimal text.
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresBindable, PostgresDecodable {
    /// Round-trip text.
    public var postgresText: String { String(self) }
    /// Parses decimal text.
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresBindable, PostgresDecodable {
    /// `t` or `f`.
    public var postgresText: String { self ? "t" : "f" }
    /// Parses `t`/`f`.
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension UUID: PostgresBindable, PostgresDecodable {
    /// Lowercase canonical text.
    public var postgresText: String { self.lowercasedText }
    /// Parses canonical text.
    public init?(postgresText: String) { self.init(text: postgresText) }
}

extension Date: PostgresBindable, PostgresDecodable {
    /// ISO 8601 in UTC with microseconds, which `timestamptz` parses exactly.
    public var postgresText: String { PostgresTimestamp.format(self) }
    /// Parses `timestamptz` output (`2024-01-02 03:04:05.678+00`), as produced with the session in UTC or any offset.
    public init?(postgresText: String) {
        guard let date = PostgresTimestamp.parse(postgresText) else { return nil }
        self = date
    }
}

/// A JSON document bound as `jsonb` text and decoded from it.
public struct PostgresJSON: PostgresBindable, PostgresDecodable {
    /// The document.
    public var value: JSONValue
    /// Wraps a document.
    public init(_ value: JSONValue) { self.value = value }
    /// Compact JSON text.
    public var postgresText: String { self.value.jsonString }
    /// Parses JSON text.
    public init?(postgresText: String) {
        guard let value = try? JSONValue(jsonText: postgresText) else { return nil }
        self.value = value
    }
}

/// Formatting and parsing of PostgreSQL timestamps without the cost of a formatter per call.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = Int(floor(micros / 1_000_000))
        let fraction = Int(micros) - seconds * 1_000_000
        if let text = CivilTimestamp.formatMicroseconds(seconds: seconds, microseconds: fraction) { return text }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let day = "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))"
        return "\(day)T\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2)).\(pad(fraction, 6))Z"
    }

    static func parse(_ text: String) -> Date? {
        if let date = CivilTimestamp.parse(text, separator: 0x20, hourOffsets: true) { return date }
        // `2024-01-02 03:04:05.678+00` or `…+05:30`; normalise to ISO 8601 for the parser.
        var iso = text.replacingOccurrences(of: " ", with: "T")
        if let signIndex = iso.lastIndex(where: { $0 == "+" || $0 == "-" }), signIndex > iso.index(iso.startIndex, offsetBy: 10) {
            let offset = iso[signIndex...]
            if offset.count == 3 { iso += ":00" }
        }
        return ISO8601.parse(iso)
    }
}
