import Foundation

/// The BSON element types the services read and write (bsonspec.org, version 1.1).
enum BSONType: UInt8 {
    case double = 0x01
    case string = 0x02
    case document = 0x03
    case array = 0x04
    case binary = 0x05
    case undefined = 0x06
    case objectID = 0x07
    case bool = 0x08
    case dateTime = 0x09
    case null = 0x0A
    case regex = 0x0B
    case dbPointer = 0x0C
    case javaScript = 0x0D
    case symbol = 0x0E
    case javaScriptWithScope = 0x0F
    case int32 = 0x10
    case timestamp = 0x11
    case int64 = 0x12
    case decimal128 = 0x13
    case minKey = 0xFF
    case maxKey = 0x7F
}

/// BSON bytes written in Swift and handed to libbson once complete.
///
/// Building the document here instead of through `bson_append_*` keeps every step inside one growing array:
/// no C call per field, no aligned child `bson_t` per nested document, no temporary C strings for keys. A nested
/// document's length is written as a placeholder and patched when it ends.
struct BSONWriter {
    private(set) var bytes: [UInt8]

    /// An empty buffer; `capacity` is a guess that saves regrowing for typical documents.
    init(capacity: Int = 512) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    /// Writes a document's length placeholder; returns the offset that ``endDocument(_:)`` patches.
    mutating func beginDocument() -> Int {
        let start = self.bytes.count
        self.bytes.append(contentsOf: [0, 0, 0, 0] as [UInt8])
        return start
    }

    /// Terminates the document begun at `start` and writes its length.
    mutating func endDocument(_ start: Int) throws(DatabaseError) {
        self.bytes.append(0)
        let length = self.bytes.count - start
        guard length <= Self.maximumDocumentSize else {
            throw DatabaseError(.invalidInput, "The document is too large.", debugDetails: "BSON document of \(length) bytes")
        }
        withUnsafeBytes(of: Int32(length).littleEndian) { raw in
            for index in 0..<4 { self.bytes[start + index] = raw[index] }
        }
    }

    /// MongoDB's limit for one document (16 MiB).
    static let maximumDocumentSize = 16 * 1024 * 1024

    /// Writes an element header: the type byte and the key as a C string.
    mutating func key(_ type: BSONType, _ key: String) throws(DatabaseError) {
        self.bytes.append(type.rawValue)
        let start = self.bytes.count
        self.bytes.append(contentsOf: key.utf8)
        // A NUL would end the key early and shift every byte after it: refuse rather than store garbage.
        if self.bytes[start...].contains(0) {
            throw DatabaseError(.invalidInput, "A field name contains a NUL character.", debugDetails: "BSON key with NUL")
        }
        self.bytes.append(0)
    }

    /// Writes an array index as the key (`"0"`, `"1"`, …) without building a string.
    mutating func indexKey(_ type: BSONType, _ index: Int) {
        self.bytes.append(type.rawValue)
        if index < 10 {
            self.bytes.append(UInt8(ascii: "0") + UInt8(index))
        } else {
            var digits: [UInt8] = []
            var rest = index
            while rest > 0 {
                digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
            }
            self.bytes.append(contentsOf: digits.reversed())
        }
        self.bytes.append(0)
    }

    mutating func int32(_ value: Int32) { withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) } }
    mutating func int64(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) } }
    mutating func double(_ value: Double) { self.int64(Int64(bitPattern: value.bitPattern)) }
    mutating func bool(_ value: Bool) { self.bytes.append(value ? 1 : 0) }

    /// A BSON string body: length including the terminating NUL, the UTF-8 bytes, NUL.
    mutating func string(_ value: String) throws(DatabaseError) {
        let count = value.utf8.count
        guard count < Self.maximumDocumentSize else { throw DatabaseError(.invalidInput, "A text value is too large.") }
        self.int32(Int32(count + 1))
        self.bytes.append(contentsOf: value.utf8)
        self.bytes.append(0)
    }

    /// A BSON date: milliseconds since 1970, rounded to the nearest (BSON's precision).
    mutating func date(_ value: Date) {
        self.int64(Int64((value.timeIntervalSince1970 * 1000).rounded()))
    }

    /// An ObjectId from its 24 hex digits.
    mutating func objectID(_ hex: String) throws(DatabaseError) {
        let digits = Array(hex.utf8)
        guard digits.count == 24 else { throw DatabaseError(.invalidInput, "Invalid ObjectId.") }
        for index in stride(from: 0, to: 24, by: 2) {
            guard let high = ASCIIHex.value(digits[index]), let low = ASCIIHex.value(digits[index + 1]) else {
                throw DatabaseError(.invalidInput, "Invalid ObjectId.")
            }
            self.bytes.append(high << 4 | low)
        }
    }

    // MARK: JSONValue

    /// Writes `object` as a complete top-level document.
    mutating func document(_ object: JSONObject) throws(DatabaseError) {
        let start = self.beginDocument()
        for member in object { try self.member(member.key, member.value) }
        try self.endDocument(start)
    }

    /// Writes one member: header and value.
    mutating func member(_ key: String, _ value: JSONValue) throws(DatabaseError) {
        switch value {
        case .null:
            try self.key(.null, key)
        case .bool(let flag):
            try self.key(.bool, key)
            self.bool(flag)
        case .int(let number):
            if let small = Int32(exactly: number) {
                try self.key(.int32, key)
                self.int32(small)
            } else {
                try self.key(.int64, key)
                self.int64(number)
            }
        case .double(let number):
            try self.key(.double, key)
            self.double(number)
        case .string(let text):
            try self.key(.string, key)
            try self.string(text)
        case .date(let date):
            try self.key(.dateTime, key)
            self.date(date)
        case .objectID(let hex):
            try self.key(.objectID, key)
            try self.objectID(hex)
        case .array(let values):
            try self.key(.array, key)
            let start = self.beginDocument()
            for (index, element) in values.enumerated() { try self.member(String(index), element) }
            try self.endDocument(start)
        case .object(let object):
            try self.key(.document, key)
            try self.document(object)
        }
    }
}

/// One BSON document's bytes, borrowed from libbson or from a parent document; valid only while its owner is.
///
/// Reading the format directly (rather than through `bson_iter_t`) costs no allocation per level and lets the
/// compiler see the whole loop. Every length is checked against the bytes, so a malformed reply is an error,
/// never a read out of bounds.
struct BSONDocumentView {
    /// Exactly the document: the length prefix through the terminating NUL.
    let bytes: UnsafeRawBufferPointer

    /// Wraps `bytes`, checking the length prefix and the terminator.
    init(_ bytes: UnsafeRawBufferPointer) throws(DatabaseError) {
        guard bytes.count >= 5, bytes[bytes.count - 1] == 0,
            Int(Int32(littleEndian: bytes.loadUnaligned(as: Int32.self))) == bytes.count
        else {
            throw BSONDocumentView.malformed("document length")
        }
        self.bytes = bytes
    }

    static func malformed(_ what: String) -> DatabaseError {
        DatabaseError(.internalError, "The document store sent a malformed document.", debugDetails: "BSON: bad \(what)")
    }

    /// Every element, in order.
    func elements() throws(DatabaseError) -> [BSONElementView] {
        var result: [BSONElementView] = []
        result.reserveCapacity(16)
        var offset = 4
        let end = self.bytes.count - 1
        while offset < end { result.append(try self.element(at: &offset)) }
        return result
    }

    /// The first element named `key`, if any.
    func element(named key: String) throws(DatabaseError) -> BSONElementView? {
        var offset = 4
        let end = self.bytes.count - 1
        while offset < end {
            let element = try self.element(at: &offset)
            if element.hasKey(key) { return element }
        }
        return nil
    }

    private func element(at offset: inout Int) throws(DatabaseError) -> BSONElementView {
        let end = self.bytes.count - 1
        guard let type = BSONType(rawValue: self.bytes[offset]) else { throw Self.malformed("element type \(self.bytes[offset])") }
        let keyStart = offset + 1
        var keyEnd = keyStart
        while keyEnd < end && self.bytes[keyEnd] != 0 { keyEnd += 1 }
        guard keyEnd < end else { throw Self.malformed("key") }
        let valueStart = keyEnd + 1
        let length = try self.valueLength(type, at: valueStart)
        guard length >= 0, valueStart + length <= end else { throw Self.malformed("value length") }
        offset = valueStart + length
        return BSONElementView(
            type: type,
            key: UnsafeRawBufferPointer(rebasing: self.bytes[keyStart..<keyEnd]),
            value: UnsafeRawBufferPointer(rebasing: self.bytes[valueStart..<offset])
        )
    }

    private func int32(at offset: Int) throws(DatabaseError) -> Int {
        guard offset + 4 <= self.bytes.count else { throw Self.malformed("length") }
        return Int(Int32(littleEndian: self.bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
    }

    private func cStringLength(at offset: Int) throws(DatabaseError) -> Int {
        var end = offset
        while end < self.bytes.count && self.bytes[end] != 0 { end += 1 }
        guard end < self.bytes.count else { throw Self.malformed("C string") }
        return end - offset + 1
    }

    private func valueLength(_ type: BSONType, at offset: Int) throws(DatabaseError) -> Int {
        switch type {
        case .double, .dateTime, .timestamp, .int64: return 8
        case .int32: return 4
        case .bool: return 1
        case .objectID: return 12
        case .decimal128: return 16
        case .null, .undefined, .minKey, .maxKey: return 0
        case .string, .javaScript, .symbol:
            let length = try self.int32(at: offset)
            guard length >= 1 else { throw Self.malformed("string length") }
            return 4 + length
        case .document, .array, .javaScriptWithScope:
            let length = try self.int32(at: offset)
            guard length >= 5 else { throw Self.malformed("document length") }
            return length
        case .binary:
            let length = try self.int32(at: offset)
            guard length >= 0 else { throw Self.malformed("binary length") }
            return 5 + length
        case .regex:
            let pattern = try self.cStringLength(at: offset)
            return pattern + (try self.cStringLength(at: offset + pattern))
        case .dbPointer:
            let length = try self.int32(at: offset)
            guard length >= 1 else { throw Self.malformed("string length") }
            return 4 + length + 12
        }
    }

    // MARK: JSONValue

    /// The document as an ordered object.
    func object(depth: Int = 0) throws(DatabaseError) -> JSONObject {
        guard depth <= BSONElementView.maximumDepth else { throw Self.malformed("nesting (deeper than 100)") }
        var members: [(String, JSONValue)] = []
        var offset = 4
        let end = self.bytes.count - 1
        while offset < end {
            let element = try self.element(at: &offset)
            members.append((element.keyString, try element.jsonValue(depth: depth)))
        }
        return JSONObject(members)
    }
}

/// One element of a ``BSONDocumentView``: its type, key and value bytes.
struct BSONElementView {
    let type: BSONType
    /// The key's bytes, without the NUL.
    let key: UnsafeRawBufferPointer
    /// Exactly the value's bytes.
    let value: UnsafeRawBufferPointer

    /// MongoDB's own nesting limit; deeper replies are malformed.
    static let maximumDepth = 100

    /// The key as a string.
    var keyString: String { String(decoding: self.key, as: UTF8.self) }

    /// Whether the key is exactly `name`.
    func hasKey(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { self.hasKey(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Whether the key's bytes are exactly `utf8` (for lookups that compare one name with many keys).
    func hasKey(utf8: UnsafeRawBufferPointer) -> Bool {
        guard utf8.count == self.key.count else { return false }
        guard let left = utf8.baseAddress, let right = self.key.baseAddress else { return true }
        return memcmp(left, right, utf8.count) == 0
    }

    var int32Value: Int32 { Int32(littleEndian: self.value.loadUnaligned(as: Int32.self)) }
    var int64Value: Int64 { Int64(littleEndian: self.value.loadUnaligned(as: Int64.self)) }
    var doubleValue: Double { Double(bitPattern: UInt64(littleEndian: self.value.loadUnaligned(as: UInt64.self))) }
    var boolValue: Bool { self.value[0] != 0 }
    /// A BSON date as a `Date`.
    var dateValue: Date { Date(timeIntervalSince1970: Double(self.int64Value) / 1000) }

    /// A string, JavaScript or symbol value's text (invalid UTF-8 is repaired, as `String(decoding:)` does).
    var stringValue: String {
        // The declared length includes the NUL, which the view's bounds check already placed inside the value.
        String(decoding: UnsafeRawBufferPointer(rebasing: self.value[4..<(self.value.count - 1)]), as: UTF8.self)
    }

    /// The nested document or array.
    var documentValue: BSONDocumentView {
        get throws(DatabaseError) {
            if self.type == .javaScriptWithScope { throw BSONDocumentView.malformed("code with scope read as a document") }
            return try BSONDocumentView(self.value)
        }
    }

    /// The ObjectId as 24 lowercase hex digits.
    var objectIDValue: String {
        var text: [UInt8] = []
        text.reserveCapacity(24)
        for byte in self.value {
            text.append(ASCIIHex.digit(byte >> 4))
            text.append(ASCIIHex.digit(byte & 0x0F))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The value as a ``JSONValue``: BSON types the services never store become their nearest JSON form, or null.
    func jsonValue(depth: Int = 0) throws(DatabaseError) -> JSONValue {
        switch self.type {
        case .null, .undefined: return .null
        case .bool: return .bool(self.boolValue)
        case .int32: return .int(Int64(self.int32Value))
        case .int64: return .int(self.int64Value)
        case .double: return .double(self.doubleValue)
        case .string, .symbol: return .string(self.stringValue)
        case .dateTime: return .date(self.dateValue)
        case .objectID: return .objectID(self.objectIDValue)
        case .document: return .object(try self.documentValue.object(depth: depth + 1))
        case .array:
            let object = try self.documentValue.object(depth: depth + 1)
            return .array(object.members.map(\.value))
        case .timestamp:
            // Seconds are the high 32 bits; the increment (low bits) orders events within a second.
            return .date(Date(timeIntervalSince1970: Double(UInt64(bitPattern: self.int64Value) >> 32)))
        case .decimal128: return .string(BSONDecimal128.string(self.value))
        case .binary, .regex, .dbPointer, .javaScript, .javaScriptWithScope, .minKey, .maxKey:
            // Not used by these services; keep the key with a null.
            return .null
        }
    }
}
