import Foundation

/// Decodes `Decodable` values straight from a ``JSONValue`` tree.
///
/// Request bodies are parsed once by ``JSONParser`` and checked by ``JSONBodyRules`` as a tree; this decoder then
/// reads the typed request from that same tree. Before, the tree was written back to JSON text and parsed again by
/// Foundation's `JSONDecoder`. Errors are the `DecodingError`s Foundation throws, with the same coding paths, so
/// ``Problem`` describes them the same way; dates are read from ISO 8601 strings as ``ISO8601/decodingStrategy`` read them.
public enum JSONValueDecoder {
    /// Decodes `type` from `value`.
    public static func decode<T: Decodable>(_ type: T.Type = T.self, from value: JSONValue) throws -> T {
        try unbox(value, as: type, path: CodingPath([]))
    }

    /// The one place that turns a value into a `T`: the tree's own types, dates and scalars directly, anything
    /// else through its `init(from:)`.
    static func unbox<T: Decodable>(_ value: JSONValue, as type: T.Type, path: CodingPath) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == JSONObject.self {
            guard case .object(let object) = value else { throw mismatch([String: JSONValue].self, value, path) }
            return object as! T
        }
        if T.self == Date.self { return try date(value, path) as! T }
        if T.self == String.self { return try string(value, path) as! T }
        if T.self == Int.self { return try integer(value, Int.self, path) as! T }
        if T.self == Bool.self { return try bool(value, path) as! T }
        if T.self == Double.self { return try double(value, path) as! T }
        return try T(from: ValueDecoder(value: value, path: path))
    }

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: CodingPath) -> DecodingError {
        if case .null = value {
            return .valueNotFound(type, .init(codingPath: path.keys, debugDescription: "Expected \(type) but found null instead."))
        }
        return .typeMismatch(type, .init(codingPath: path.keys, debugDescription: "Expected to decode \(type) but found \(value.kind) instead."))
    }

    static func string(_ value: JSONValue, _ path: CodingPath) throws -> String {
        switch value {
        case .string(let text), .objectID(let text): return text
        default: throw mismatch(String.self, value, path)
        }
    }

    static func bool(_ value: JSONValue, _ path: CodingPath) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(Bool.self, value, path) }
        return flag
    }

    static func double(_ value: JSONValue, _ path: CodingPath) throws -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw mismatch(Double.self, value, path)
        }
    }

    static func integer<I: FixedWidthInteger>(_ value: JSONValue, _ type: I.Type, _ path: CodingPath) throws -> I {
        switch value {
        case .int(let number):
            guard let exact = I(exactly: number) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path.keys, debugDescription: "Number \(number) does not fit in \(I.self)."))
            }
            return exact
        case .double(let number):
            if let exact = I(exactly: number) { return exact }
            guard number.rounded(.towardZero) == number else { throw mismatch(I.self, value, path) }
            throw DecodingError.dataCorrupted(.init(codingPath: path.keys, debugDescription: "Number \(number) does not fit in \(I.self)."))
        default:
            throw mismatch(I.self, value, path)
        }
    }

    /// A date from a BSON date or an ISO 8601 string; anything else is refused as the string it should have been.
    static func date(_ value: JSONValue, _ path: CodingPath) throws -> Date {
        switch value {
        case .date(let date): return date
        case .string(let text):
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path.keys, debugDescription: "expected an ISO 8601 timestamp"))
            }
            return date
        default: throw mismatch(String.self, value, path)
        }
    }
}

extension JSONValue {
    /// The JSON kind, for decoding errors (never the value itself).
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string, .objectID: "a string"
        case .date: "a date"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A key in a coding path: an object member's name or an array index.
struct JSONCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }
}

/// The `Decoder` handed to types that decode themselves; it only hands out containers over `value`.
private final class ValueDecoder: Decoder {
    let value: JSONValue
    let path: CodingPath
    var codingPath: [any CodingKey] { self.path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: JSONValue, path: CodingPath) {
        self.value = value
        self.path = path
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = self.value else {
            throw JSONValueDecoder.mismatch([String: JSONValue].self, self.value, self.path)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: self.codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let values) = self.value else {
            throw JSONValueDecoder.mismatch([JSONValue].self, self.value, self.path)
        }
        return UnkeyedContainer(values: values, codingPath: self.codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: self.value, codingPath: self.codingPath)
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { if case .null = self.value { true } else { false } }
    func decode(_ type: Bool.Type) throws -> Bool { try JSONValueDecoder.bool(self.value, CodingPath(self.codingPath)) }
    func decode(_ type: String.Type) throws -> String { try JSONValueDecoder.string(self.value, CodingPath(self.codingPath)) }
    func decode(_ type: Double.Type) throws -> Double { try JSONValueDecoder.double(self.value, CodingPath(self.codingPath)) }
    func decode(_ type: Float.Type) throws -> Float { Float(try JSONValueDecoder.double(self.value, CodingPath(self.codingPath))) }
    func decode(_ type: Int.Type) throws -> Int { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: Int8.Type) throws -> Int8 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: Int16.Type) throws -> Int16 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: Int32.Type) throws -> Int32 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: Int64.Type) throws -> Int64 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: UInt.Type) throws -> UInt { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try JSONValueDecoder.integer(self.value, type, CodingPath(self.codingPath)) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValueDecoder.unbox(self.value, as: type, path: CodingPath(self.codingPath)) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { self.object.members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { self.object[key.stringValue] != nil }

    /// The member for `key`, and the path to it.
    private func member(_ key: Key) throws -> (JSONValue, CodingPath) {
        guard let value = self.object[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: self.codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return (value, CodingPath(self.codingPath, key))
    }

    private func scalar<T>(_ key: Key, _ read: (JSONValue, CodingPath) throws -> T) throws -> T {
        let (value, path) = try self.member(key)
        return try read(value, path)
    }

    func decodeNil(forKey key: Key) throws -> Bool { if case .null = try self.member(key).0 { true } else { false } }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try self.scalar(key, JSONValueDecoder.bool) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try self.scalar(key, JSONValueDecoder.string) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try self.scalar(key, JSONValueDecoder.double) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try self.scalar(key, JSONValueDecoder.double)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try self.scalar(key) { try JSONValueDecoder.integer($0, type, $1) } }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try self.scalar(key) { try JSONValueDecoder.unbox($0, as: type, path: $1) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try self.member(key)
        return try ValueDecoder(value: value, path: path).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let (value, path) = try self.member(key)
        return try ValueDecoder(value: value, path: path).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: self.object["super"] ?? .null, path: CodingPath(self.codingPath, JSONCodingKey(stringValue: "super")))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: self.object[key.stringValue] ?? .null, path: CodingPath(self.codingPath, key))
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let values: [JSONValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(values: [JSONValue], codingPath: [any CodingKey]) {
        self.values = values
        self.codingPath = codingPath
    }

    var count: Int? { self.values.count }
    var isAtEnd: Bool { self.currentIndex >= self.values.count }

    /// The next element and the path to it, moving past it only when `read` succeeds (as Foundation does).
    private mutating func next<T>(_ type: T.Type, _ read: (JSONValue, CodingPath) throws -> T) throws -> T {
        let path = CodingPath(self.codingPath, JSONCodingKey(intValue: self.currentIndex))
        guard !self.isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path.keys, debugDescription: "Unkeyed container is at end."))
        }
        let result = try read(self.values[self.currentIndex], path)
        self.currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard !self.isAtEnd, case .null = self.values[self.currentIndex] else { return false }
        self.currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try self.next(type, JSONValueDecoder.bool) }
    mutating func decode(_ type: String.Type) throws -> String { try self.next(type, JSONValueDecoder.string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try self.next(type, JSONValueDecoder.double) }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try self.next(Double.self, JSONValueDecoder.double)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try self.next(type) { try JSONValueDecoder.integer($0, type, $1) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try self.next(type) { try JSONValueDecoder.unbox($0, as: type, path: $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try self.next(KeyedDecodingContainer<NestedKey>.self) { try ValueDecoder(value: $0, path: $1).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try self.next((any UnkeyedDecodingContainer).self) { try ValueDecoder(value: $0, path: $1).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try self.next((any Decoder).self) { ValueDecoder(value: $0, path: $1) }
    }
}
