import Foundation

/// Decodes `Decodable` values straight from BSON bytes: no ``JSONObject`` tree, no JSON text, no JSONDecoder.
///
/// `Date` reads a BSON date, or an ISO 8601 string (nx-27017 stores dates written by update operators as text);
/// ``JSONValue``/``JSONObject`` members are read whole; BSON int32/int64/double convert to any numeric type
/// that holds the value exactly, as JSONDecoder converts JSON numbers.
enum BSONDecoder {
    /// Decodes `type` from `document`, whose bytes must stay valid for the call.
    static func decode<T: Decodable>(_ type: T.Type, from document: BSONDocumentView) throws -> T {
        if T.self == JSONObject.self { return unsafeBitCast(try document.object(), to: T.self) }
        let root = BSONElementView(type: .document, key: UnsafeRawBufferPointer(start: nil, count: 0), value: document.bytes)
        return try T(from: BSONValueDecoder(element: root, path: CodingPath([])))
    }

    static func typeMismatch(_ type: Any.Type, _ element: BSONElementView, _ path: CodingPath) -> DecodingError {
        .typeMismatch(type, .init(codingPath: path.keys, debugDescription: "Expected \(type), found BSON \(element.type)."))
    }

    /// Reads `T` from one element: the types with a BSON form of their own directly, the rest through a decoder.
    ///
    /// Metatype comparisons rather than `as?` casts, for the reason given in ``BSONEncodingSink``.
    static func value<T: Decodable>(_ type: T.Type, _ element: BSONElementView, _ path: CodingPath) throws -> T {
        if T.self == String.self { return unsafeBitCast(try self.string(element, path), to: T.self) }
        if T.self == Date.self { return unsafeBitCast(try self.date(element, path), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try self.integer(Int.self, element, path), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try self.bool(element, path), to: T.self) }
        if T.self == JSONValue.self { return unsafeBitCast(try element.jsonValue(), to: T.self) }
        if T.self == JSONObject.self {
            guard element.type == .document else { throw self.typeMismatch(JSONObject.self, element, path) }
            return unsafeBitCast(try element.documentValue.object(), to: T.self)
        }
        return try T(from: BSONValueDecoder(element: element, path: path))
    }

    static func string(_ element: BSONElementView, _ path: CodingPath) throws -> String {
        guard element.type == .string || element.type == .symbol else { throw self.typeMismatch(String.self, element, path) }
        return element.stringValue
    }

    static func bool(_ element: BSONElementView, _ path: CodingPath) throws -> Bool {
        guard element.type == .bool else { throw self.typeMismatch(Bool.self, element, path) }
        return element.boolValue
    }

    static func date(_ element: BSONElementView, _ path: CodingPath) throws -> Date {
        switch element.type {
        case .dateTime: return element.dateValue
        case .string:
            guard let date = ISO8601.parse(element.stringValue) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path.keys, debugDescription: "Expected an ISO 8601 timestamp."))
            }
            return date
        default: throw self.typeMismatch(Date.self, element, path)
        }
    }

    static func integer<I: FixedWidthInteger>(_ type: I.Type, _ element: BSONElementView, _ path: CodingPath) throws -> I {
        let exact: I? =
            switch element.type {
            case .int32: I(exactly: element.int32Value)
            case .int64: I(exactly: element.int64Value)
            case .double: I(exactly: element.doubleValue)
            default: throw self.typeMismatch(I.self, element, path)
            }
        guard let exact else {
            throw DecodingError.dataCorrupted(.init(codingPath: path.keys, debugDescription: "The number does not fit \(I.self)."))
        }
        return exact
    }

    static func double(_ element: BSONElementView, _ path: CodingPath) throws -> Double {
        switch element.type {
        case .double: return element.doubleValue
        case .int32: return Double(element.int32Value)
        case .int64: return Double(element.int64Value)
        default: throw self.typeMismatch(Double.self, element, path)
        }
    }

    static func isNull(_ element: BSONElementView) -> Bool { element.type == .null || element.type == .undefined }
}

/// The `Decoder` of one element.
struct BSONValueDecoder: Decoder {
    let element: BSONElementView
    let path: CodingPath
    var codingPath: [any CodingKey] { self.path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard self.element.type == .document else { throw BSONDecoder.typeMismatch([String: Any].self, self.element, self.path) }
        return KeyedDecodingContainer(
            BSONKeyedDecodingContainer<Key>(elements: try self.element.documentValue.elements(), codingPath: self.codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard self.element.type == .array else { throw BSONDecoder.typeMismatch([Any].self, self.element, self.path) }
        return BSONUnkeyedDecodingContainer(elements: try self.element.documentValue.elements(), codingPath: self.codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BSONSingleValueDecodingContainer(element: self.element, codingPath: self.codingPath)
    }
}

/// The members of one document, looked up by key.
struct BSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let elements: [BSONElementView]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { self.elements.compactMap { Key(stringValue: $0.keyString) } }

    func contains(_ key: Key) -> Bool { self.find(key) != nil }

    /// The element named `key`. Linear, which beats hashing for documents of a few dozen short keys; the name's
    /// bytes are fetched once, not once per element compared.
    private func find(_ key: Key) -> BSONElementView? {
        var name = key.stringValue
        return name.withUTF8 { utf8 in self.elements.first { $0.hasKey(utf8: UnsafeRawBufferPointer(utf8)) } }
    }

    private func require(_ key: Key) throws -> BSONElementView {
        guard let element = self.find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: self.codingPath, debugDescription: "No value for \"\(key.stringValue)\"."))
        }
        if BSONDecoder.isNull(element) {
            throw DecodingError.valueNotFound(
                Any.self, .init(codingPath: self.codingPath + [key], debugDescription: "\"\(key.stringValue)\" is null."))
        }
        return element
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let element = self.find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: self.codingPath, debugDescription: "No value for \"\(key.stringValue)\"."))
        }
        return BSONDecoder.isNull(element)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try BSONDecoder.bool(self.require(key), CodingPath(self.codingPath, key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try BSONDecoder.string(self.require(key), CodingPath(self.codingPath, key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try BSONDecoder.double(self.require(key), CodingPath(self.codingPath, key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        Float(try BSONDecoder.double(self.require(key), CodingPath(self.codingPath, key)))
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try self.integer(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try self.integer(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try self.integer(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try self.integer(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try self.integer(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try self.integer(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try self.integer(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try self.integer(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try self.integer(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try self.integer(type, key) }

    private func integer<I: FixedWidthInteger>(_ type: I.Type, _ key: Key) throws -> I {
        try BSONDecoder.integer(type, self.require(key), CodingPath(self.codingPath, key))
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        // A stored null is a value for JSONValue (`"result": null`), a missing value for everything else.
        if T.self == JSONValue.self, let element = self.find(key) {
            return unsafeBitCast(try element.jsonValue(), to: T.self)
        }
        return try BSONDecoder.value(type, self.require(key), CodingPath(self.codingPath, key))
    }

    /// One lookup for an optional member, where the default implementation makes three.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let element = self.find(key), !BSONDecoder.isNull(element) else { return nil }
        return try BSONDecoder.value(type, element, CodingPath(self.codingPath, key))
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let element = self.find(key), !BSONDecoder.isNull(element) else { return nil }
        return try BSONDecoder.string(element, CodingPath(self.codingPath, key))
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let element = self.find(key), !BSONDecoder.isNull(element) else { return nil }
        return try BSONDecoder.integer(Int.self, element, CodingPath(self.codingPath, key))
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let element = self.find(key), !BSONDecoder.isNull(element) else { return nil }
        return try BSONDecoder.bool(element, CodingPath(self.codingPath, key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try BSONValueDecoder(element: self.require(key), path: CodingPath(self.codingPath, key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try BSONValueDecoder(element: self.require(key), path: CodingPath(self.codingPath, key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        guard let element = self.elements.first(where: { $0.hasKey("super") }) else {
            throw DecodingError.keyNotFound(BSONIndexKey(0), .init(codingPath: self.codingPath, debugDescription: "No value for \"super\"."))
        }
        return BSONValueDecoder(element: element, path: CodingPath(self.codingPath))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        BSONValueDecoder(element: try self.require(key), path: CodingPath(self.codingPath, key))
    }
}

/// The elements of one array, read in order.
struct BSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let elements: [BSONElementView]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(elements: [BSONElementView], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { self.elements.count }
    var isAtEnd: Bool { self.currentIndex >= self.elements.count }

    private var path: CodingPath { CodingPath(self.codingPath, BSONIndexKey(self.currentIndex)) }

    private mutating func next<T>(_ type: T.Type) throws -> BSONElementView {
        guard !self.isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: self.path.keys, debugDescription: "The array has no more elements."))
        }
        let element = self.elements[self.currentIndex]
        guard !BSONDecoder.isNull(element) else {
            throw DecodingError.valueNotFound(type, .init(codingPath: self.path.keys, debugDescription: "The element is null."))
        }
        return element
    }

    private mutating func read<T>(_ type: T.Type, _ body: (BSONElementView, CodingPath) throws -> T) throws -> T {
        let element = try self.next(type)
        let value = try body(element, self.path)
        self.currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !self.isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: self.path.keys, debugDescription: "The array has no more elements."))
        }
        guard BSONDecoder.isNull(self.elements[self.currentIndex]) else { return false }
        self.currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try self.read(type) { try BSONDecoder.bool($0, $1) } }
    mutating func decode(_ type: String.Type) throws -> String { try self.read(type) { try BSONDecoder.string($0, $1) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try self.read(type) { try BSONDecoder.double($0, $1) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try self.read(type) { Float(try BSONDecoder.double($0, $1)) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try self.read(type) { try BSONDecoder.integer(type, $0, $1) } }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self, !self.isAtEnd {
            let value = try self.elements[self.currentIndex].jsonValue()
            self.currentIndex += 1
            return unsafeBitCast(value, to: T.self)
        }
        return try self.read(type) { try BSONDecoder.value(type, $0, $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try self.read(KeyedDecodingContainer<NestedKey>.self) { try BSONValueDecoder(element: $0, path: $1).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try self.read((any UnkeyedDecodingContainer).self) { try BSONValueDecoder(element: $0, path: $1).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try self.read((any Decoder).self) { BSONValueDecoder(element: $0, path: $1) }
    }
}

/// One scalar element.
struct BSONSingleValueDecodingContainer: SingleValueDecodingContainer {
    let element: BSONElementView
    let codingPath: [any CodingKey]

    private func nonNull<T>(_ type: T.Type) throws -> BSONElementView {
        guard !BSONDecoder.isNull(self.element) else {
            throw DecodingError.valueNotFound(type, .init(codingPath: self.codingPath, debugDescription: "The value is null."))
        }
        return self.element
    }

    func decodeNil() -> Bool { BSONDecoder.isNull(self.element) }
    func decode(_ type: Bool.Type) throws -> Bool { try BSONDecoder.bool(self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: String.Type) throws -> String { try BSONDecoder.string(self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: Double.Type) throws -> Double { try BSONDecoder.double(self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: Float.Type) throws -> Float { Float(try BSONDecoder.double(self.nonNull(type), CodingPath(self.codingPath))) }
    func decode(_ type: Int.Type) throws -> Int { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: Int8.Type) throws -> Int8 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: Int16.Type) throws -> Int16 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: Int32.Type) throws -> Int32 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: Int64.Type) throws -> Int64 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: UInt.Type) throws -> UInt { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try BSONDecoder.integer(type, self.nonNull(type), CodingPath(self.codingPath)) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return unsafeBitCast(try self.element.jsonValue(), to: T.self) }
        return try BSONDecoder.value(type, self.nonNull(type), CodingPath(self.codingPath))
    }
}
