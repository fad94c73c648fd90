public import Foundation

/// A JSON value that also carries the BSON types the services store: dates and ObjectIds.
///
/// Object keys keep their insertion order (``JSONObject``), which MongoDB sort and index specifications need.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// An integer (stored as BSON int32 when it fits, else int64).
    case int(Int64)
    /// A floating-point number.
    case double(Double)
    /// A string.
    case string(String)
    /// A timestamp (BSON date; ISO 8601 in JSON).
    case date(Date)
    /// A BSON ObjectId as 24 hex digits.
    case objectID(String)
    /// An array.
    case array([JSONValue])
    /// An object with ordered keys.
    case object(JSONObject)

    /// The string, if this is one.
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    /// The integer, if this is one (a whole double counts).
    public var intValue: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value) where value.rounded() == value && abs(value) < 9e15: Int64(value)
        default: nil
        }
    }
    /// The object, if this is one.
    public var objectValue: JSONObject? { if case .object(let value) = self { value } else { nil } }
    /// The array, if this is one.
    public var arrayValue: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    /// The date, if this is one.
    public var dateValue: Date? { if case .date(let value) = self { value } else { nil } }
    /// The boolean, if this is one.
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
}

/// An ordered JSON object.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() { self.members = [] }

    /// An object from ordered members.
    public init(_ members: [(String, JSONValue)]) { self.members = members.map { (key: $0.0, value: $0.1) } }

    /// An object from members the caller has already checked for repeated keys (``JSONParser``).
    init(members: [(key: String, value: JSONValue)]) { self.members = members }

    /// An object from a literal, in literal order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }

    /// Reads or replaces a member; setting nil removes it. A new key is appended.
    public subscript(key: String) -> JSONValue? {
        get { self.members.first(where: { $0.key == key })?.value }
        set {
            if let index = self.members.firstIndex(where: { $0.key == key }) {
                if let newValue { self.members[index].value = newValue } else { self.members.remove(at: index) }
            } else if let newValue {
                self.members.append((key: key, value: newValue))
            }
        }
    }

    /// The keys in order.
    public var keys: [String] { self.members.map(\.key) }
    /// Number of members.
    public var count: Int { self.members.count }
    /// Whether there are no members.
    public var isEmpty: Bool { self.members.isEmpty }

    /// Iterates members in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { self.members.makeIterator() }

    /// Equal when the same keys map to equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }

    /// Hashes the member count and keys' values independent of order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.count)
        for key in self.keys.sorted() { hasher.combine(key); hasher.combine(self[key]) }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A float literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object literal, in literal order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    /// `nil` as `null`.
    public init(nilLiteral: ()) { self = .null }
}

// MARK: - JSON text

extension JSONValue {
    /// Compact JSON text; dates as ISO 8601 strings, ObjectIds as hex strings.
    public var jsonString: String {
        var output = ""
        self.write(into: &output)
        return output
    }

    /// Compact JSON as UTF-8 bytes.
    public var jsonData: Data { Data(self.jsonString.utf8) }

    func write(into output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value): output += value.isFinite ? Self.formatDouble(value) : "null"
        case .string(let value): Self.writeString(value, into: &output)
        case .date(let value): Self.writeString(ISO8601.format(value), into: &output)
        case .objectID(let value): Self.writeString(value, into: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(into: &output)
            }
            output += "]"
        case .object(let object): object.write(into: &output)
        }
    }

    private static func formatDouble(_ value: Double) -> String {
        if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) + ".0" }
        return String(value)
    }

    static func writeString(_ value: String, into output: inout String) {
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }

    /// Parses JSON text (as sent by clients or stored in `jsonb`); `{"$date": …}` and `{"$oid": …}` become dates and ObjectIds.
    public init(jsonText: String) throws(JSONParseError) {
        self = try JSONParser.parse(jsonText)
    }
}

extension JSONObject {
    /// Compact JSON text.
    public var jsonString: String {
        var output = ""
        self.write(into: &output)
        return output
    }

    func write(into output: inout String) {
        output += "{"
        for (index, member) in self.members.enumerated() {
            if index > 0 { output += "," }
            JSONValue.writeString(member.key, into: &output)
            output += ":"
            member.value.write(into: &output)
        }
        output += "}"
    }
}

// MARK: - Codable

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension JSONValue: Codable {
    /// Decodes any JSON value, reading MongoDB extended JSON `$date` (ms or ISO) and `$oid` wrappers.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: AnyKey.self) {
            let object = try JSONObject(from: container)
            if object.count == 1, decoder.userInfo[Self.plainObjectsKey] as? Bool != true, let extended = Self.extendedJSON(object) {
                self = extended
            } else {
                self = .object(object)
            }
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !array.isAtEnd { values.append(try array.decode(JSONValue.self)) }
            self = .array(values)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// Set to `true` in a decoder's `userInfo` to read `{"$date": …}` and `{"$oid": …}` as the plain objects they are.
    ///
    /// Request bodies are decoded this way: a client's `$date` key must reach ``JSONBodyRules``, which refuses it
    /// as an operator key, instead of turning into a stored date on the way.
    public static let plainObjectsKey = CodingUserInfoKey(rawValue: "prismicx.jsonvalue.plain-objects")!

    /// The date or ObjectId a one-member `{"$date": …}` / `{"$oid": …}` object stands for, if it is one.
    static func extendedJSON(_ object: JSONObject) -> JSONValue? {
        if let date = object["$date"] {
            switch date {
            case .int(let milliseconds): return .date(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            case .string(let text): return ISO8601.parse(text).map(JSONValue.date)
            case .object(let inner):
                if let text = inner["$numberLong"]?.stringValue, let milliseconds = Int64(text) {
                    return .date(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
                }
                return nil
            default: return nil
            }
        }
        if let oid = object["$oid"]?.stringValue, oid.utf8.count == 24, oid.allSatisfy(\.isHexDigit) { return .objectID(oid) }
        return nil
    }

    /// Encodes as plain JSON; dates use the encoder's date strategy.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            if value.isFinite { try container.encode(value) } else { try container.encodeNil() }
        case .string(let value), .objectID(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .date(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let object):
            try object.encode(to: encoder)
        }
    }
}

extension JSONObject: Codable {
    fileprivate init(from container: KeyedDecodingContainer<AnyKey>) throws {
        self.init()
        for key in container.allKeys {
            self.members.append((key: key.stringValue, value: try container.decode(JSONValue.self, forKey: key)))
        }
    }

    /// Decodes a JSON object (key order as the decoder reports it).
    public init(from decoder: any Decoder) throws {
        try self.init(from: decoder.container(keyedBy: AnyKey.self))
    }

    /// Encodes members in order.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        for member in self.members { try container.encode(member.value, forKey: AnyKey(stringValue: member.key)) }
    }
}

// MARK: - Bridging Codable types

extension JSONObject {
    /// Converts an `Encodable` value (which must encode as an object) into an ordered object, keeping dates as dates.
    ///
    /// It goes through ``BSONEncoder`` and reads the bytes back: no JSON text, and the members are exactly what
    /// the value would store (absent optionals absent, dates as dates, whole doubles still doubles).
    public init(encoding value: some Encodable) throws {
        let bytes = try BSONEncoder.encode(value)
        self = try bytes.withUnsafeBytes { raw in try BSONDocumentView(raw).object() }
    }

    /// Decodes a `Decodable` value from this object (``JSONValueDecoder``); dates are read from their ISO 8601 form.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONValueDecoder.decode(T.self, from: .object(self))
    }
}
