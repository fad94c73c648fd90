import Foundation

/// Encodes `Encodable` values as compact JSON bytes in one pass: no intermediate tree, no `Data`.
///
/// It writes what the services' JSONEncoder wrote: members in encoding order, absent optionals left out, dates as
/// ISO 8601 (``ISO8601/format(_:)``), ObjectIds as hex strings, `Data` as base64, `URL` as its absolute string,
/// `Decimal` as a number. Unlike JSONEncoder it does not escape `/` (both are valid JSON), and it throws on a
/// non-finite number as JSONEncoder does.
public enum JSONBytesEncoder {
    /// The JSON of `value`.
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let sink = JSONEncodingSink()
        try sink.encode(value, member: .root, depth: -1, id: -1, codingPath: CodingPath([]))
        return try sink.finish()
    }
}

/// Where a value goes: the top level, or a member of an open container.
enum JSONMember {
    case root
    case key(String)
    case element
}

/// The state of one encode: the bytes and the stack of open objects and arrays.
///
/// As in ``BSONEncodingSink``, a container writes only into the object or array it opened, and before it writes,
/// the containers opened after it (finished members) are closed.
final class JSONEncodingSink {
    var bytes: [UInt8] = []
    private var open: [(id: Int, isArray: Bool, count: Int)] = []
    private var nextID = 0
    private var wroteRoot = false
    var deferredError: (any Error)?

    init() { self.bytes.reserveCapacity(1024) }

    /// Closes containers above `depth` and checks that `id` is the one open there (depth -1: the top level).
    func prepare(depth: Int, id: Int) throws {
        if let error = self.deferredError { throw error }
        while self.open.count > depth + 1 { self.close() }
        if depth < 0 { return }
        guard self.open.count == depth + 1, self.open[depth].id == id else {
            throw EncodingError.invalidValue((), .init(codingPath: [], debugDescription: "A JSON container was used after it was closed."))
        }
    }

    private func close() {
        let last = self.open.removeLast()
        self.bytes.append(last.isArray ? UInt8(ascii: "]") : UInt8(ascii: "}"))
    }

    /// Writes the separator and key of a new member of the container at `depth` (prepared by the caller).
    func beginMember(_ member: JSONMember, depth: Int) throws {
        switch member {
        case .root:
            guard !self.wroteRoot else {
                throw EncodingError.invalidValue((), .init(codingPath: [], debugDescription: "The top-level value was encoded twice."))
            }
            self.wroteRoot = true
        case .key(let key):
            if self.open[depth].count > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.open[depth].count += 1
            self.string(key)
            self.bytes.append(UInt8(ascii: ":"))
        case .element:
            if self.open[depth].count > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.open[depth].count += 1
        }
    }

    /// Opens an object or array as `member` of the container at `depth`; returns its depth and id.
    func openContainer(_ member: JSONMember, depth: Int, id: Int, array: Bool) throws -> (depth: Int, id: Int) {
        try self.prepare(depth: depth, id: id)
        try self.beginMember(member, depth: depth)
        self.bytes.append(array ? UInt8(ascii: "[") : UInt8(ascii: "{"))
        let newID = self.nextID
        self.nextID += 1
        self.open.append((id: newID, isArray: array, count: 0))
        return (depth + 1, newID)
    }

    /// Closes everything and returns the bytes.
    func finish() throws -> [UInt8] {
        if let error = self.deferredError { throw error }
        while !self.open.isEmpty { self.close() }
        return self.bytes
    }

    /// Writes one scalar member.
    func scalar(_ member: JSONMember, depth: Int, id: Int, _ body: (JSONEncodingSink) throws -> Void) throws {
        try self.prepare(depth: depth, id: id)
        try self.beginMember(member, depth: depth)
        try body(self)
    }

    // MARK: Values

    /// Writes `value` as `member`: known types directly, the rest through their own `encode(to:)`.
    func encode<T: Encodable>(_ value: T, member: JSONMember, depth: Int, id: Int, codingPath: CodingPath) throws {
        if try self.encodeKnown(value, member: member, depth: depth, id: id, codingPath: codingPath) { return }
        let encoder = JSONValueEncoder(sink: self, member: member, depth: depth, id: id, path: codingPath)
        try value.encode(to: encoder)
        if !encoder.wroteSomething {
            // A value that encodes nothing is an empty object, as JSONEncoder writes it.
            _ = try self.openContainer(member, depth: depth, id: id, array: false)
        }
    }

    /// Types with a JSON form of their own; false for the rest. Metatype checks rather than `as?` casts, for the
    /// reason ``BSONEncodingSink`` gives.
    private func encodeKnown<T: Encodable>(
        _ value: T, member: JSONMember, depth: Int, id: Int, codingPath: CodingPath
    ) throws -> Bool {
        if T.self == String.self {
            try self.scalar(member, depth: depth, id: id) { $0.string(unsafeBitCast(value, to: String.self)) }
        } else if T.self == Int.self {
            try self.scalar(member, depth: depth, id: id) { $0.integer(Int64(unsafeBitCast(value, to: Int.self))) }
        } else if T.self == Bool.self {
            try self.scalar(member, depth: depth, id: id) { $0.ascii(unsafeBitCast(value, to: Bool.self) ? "true" : "false") }
        } else if T.self == Date.self {
            try self.scalar(member, depth: depth, id: id) { $0.string(ISO8601.format(unsafeBitCast(value, to: Date.self))) }
        } else if T.self == JSONValue.self {
            try self.scalar(member, depth: depth, id: id) { try $0.json(unsafeBitCast(value, to: JSONValue.self), codingPath: codingPath) }
        } else if T.self == JSONObject.self {
            try self.scalar(member, depth: depth, id: id) {
                try $0.json(.object(unsafeBitCast(value, to: JSONObject.self)), codingPath: codingPath)
            }
        } else if T.self == Double.self {
            try self.scalar(member, depth: depth, id: id) { try $0.double(unsafeBitCast(value, to: Double.self), codingPath: codingPath) }
        } else if T.self == URL.self, let url = value as? URL {
            try self.scalar(member, depth: depth, id: id) { $0.string(url.absoluteString) }
        } else if T.self == Data.self, let data = value as? Data {
            try self.scalar(member, depth: depth, id: id) { $0.string(data.base64EncodedString()) }
        } else if T.self == Decimal.self, let decimal = value as? Decimal {
            try self.scalar(member, depth: depth, id: id) { $0.ascii(decimal.description) }
        } else {
            return false
        }
        return true
    }

    // MARK: Bytes

    func ascii(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    func ascii(_ text: String) { self.bytes.append(contentsOf: text.utf8) }

    func integer(_ number: Int64) { self.ascii(String(number)) }

    func unsigned(_ number: UInt64) { self.ascii(String(number)) }

    func double(_ number: Double, codingPath: CodingPath) throws {
        guard number.isFinite else {
            throw EncodingError.invalidValue(number, .init(codingPath: codingPath.keys, debugDescription: "JSON has no form for \(number)."))
        }
        if number.rounded() == number && abs(number) < 1e15 {
            self.ascii(String(Int64(number)))
            self.ascii(".0")
        } else {
            self.ascii(number.description)
        }
    }

    /// A JSON string: `"`, `\` and control characters escaped, everything else as UTF-8.
    func string(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): self.ascii("\\\"")
                case UInt8(ascii: "\\"): self.ascii("\\\\")
                case 0x0A: self.ascii("\\n")
                case 0x0D: self.ascii("\\r")
                case 0x09: self.ascii("\\t")
                case 0x08: self.ascii("\\b")
                case 0x0C: self.ascii("\\f")
                default:
                    self.ascii("\\u00")
                    self.bytes.append(ASCIIHex.digit(byte >> 4))
                    self.bytes.append(ASCIIHex.digit(byte & 0x0F))
                }
            }
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// A ``JSONValue``, written directly.
    func json(_ value: JSONValue, codingPath: CodingPath) throws {
        switch value {
        case .null: self.ascii("null")
        case .bool(let flag): self.ascii(flag ? "true" : "false")
        case .int(let number): self.integer(number)
        case .double(let number):
            // JSONValue's own encoding writes a non-finite double as null rather than failing the response.
            if number.isFinite { try self.double(number, codingPath: codingPath) } else { self.ascii("null") }
        case .string(let text), .objectID(let text): self.string(text)
        case .date(let date): self.string(ISO8601.format(date))
        case .array(let values):
            self.bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
                try self.json(element, codingPath: codingPath)
            }
            self.bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            self.bytes.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
                self.string(member.key)
                self.bytes.append(UInt8(ascii: ":"))
                try self.json(member.value, codingPath: codingPath)
            }
            self.bytes.append(UInt8(ascii: "}"))
        }
    }
}

/// The `Encoder` handed to a value's `encode(to:)`; it opens the value's object or array when first asked.
final class JSONValueEncoder: Encoder {
    let sink: JSONEncodingSink
    let member: JSONMember
    let depth: Int
    let id: Int
    let path: CodingPath
    var codingPath: [any CodingKey] { self.path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private var opened: (depth: Int, id: Int, array: Bool)?
    private(set) var wroteSomething = false

    init(sink: JSONEncodingSink, member: JSONMember, depth: Int, id: Int, path: CodingPath) {
        self.sink = sink
        self.member = member
        self.depth = depth
        self.id = id
        self.path = path
    }

    private func open(array: Bool) -> (depth: Int, id: Int) {
        if let opened = self.opened {
            if opened.array != array { self.fail("A value asked for a keyed and an unkeyed container at once.") }
            return (opened.depth, opened.id)
        }
        do {
            let (depth, id) = try self.sink.openContainer(self.member, depth: self.depth, id: self.id, array: array)
            self.opened = (depth, id, array)
            self.wroteSomething = true
            return (depth, id)
        } catch {
            if self.sink.deferredError == nil { self.sink.deferredError = error }
            return (-2, -2)
        }
    }

    private func fail(_ message: String) {
        if self.sink.deferredError == nil {
            self.sink.deferredError = EncodingError.invalidValue((), .init(codingPath: self.codingPath, debugDescription: message))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let (depth, id) = self.open(array: false)
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<Key>(sink: self.sink, depth: depth, id: id, codingPath: self.codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let (depth, id) = self.open(array: true)
        return JSONUnkeyedEncodingContainer(sink: self.sink, depth: depth, id: id, codingPath: self.codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        self.wroteSomething = true
        return JSONSingleValueEncodingContainer(encoder: self)
    }

    fileprivate func single(_ body: (JSONEncodingSink) throws -> Void) throws {
        try self.sink.scalar(self.member, depth: self.depth, id: self.id, body)
    }

    fileprivate func single<T: Encodable>(_ value: T) throws {
        try self.sink.encode(value, member: self.member, depth: self.depth, id: self.id, codingPath: self.path)
    }
}

/// The members of one object.
struct JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: JSONEncodingSink
    let depth: Int
    let id: Int
    let codingPath: [any CodingKey]

    private func write(_ key: Key, _ body: (JSONEncodingSink) throws -> Void) throws {
        try self.sink.scalar(.key(key.stringValue), depth: self.depth, id: self.id, body)
    }

    mutating func encodeNil(forKey key: Key) throws { try self.write(key) { $0.ascii("null") } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try self.write(key) { $0.ascii(value ? "true" : "false") } }
    mutating func encode(_ value: String, forKey key: Key) throws { try self.write(key) { $0.string(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        let path = CodingPath(self.codingPath, key)
        try self.write(key) { try $0.double(value, codingPath: path) }
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { try self.encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try self.write(key) { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try self.write(key) { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try self.write(key) { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try self.write(key) { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try self.write(key) { $0.integer(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try self.write(key) { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try self.write(key) { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try self.write(key) { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try self.write(key) { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try self.write(key) { $0.unsigned(value) } }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try self.sink.encode(value, member: .key(key.stringValue), depth: self.depth, id: self.id, codingPath: CodingPath(self.codingPath, key))
    }

    private func encoder(_ key: Key) -> JSONValueEncoder {
        JSONValueEncoder(sink: self.sink, member: .key(key.stringValue), depth: self.depth, id: self.id, path: CodingPath(self.codingPath, key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        self.encoder(key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { self.encoder(key).unkeyedContainer() }

    mutating func superEncoder() -> any Encoder {
        JSONValueEncoder(sink: self.sink, member: .key("super"), depth: self.depth, id: self.id, path: CodingPath(self.codingPath))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder { self.encoder(key) }
}

/// The elements of one array.
struct JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let sink: JSONEncodingSink
    let depth: Int
    let id: Int
    let codingPath: [any CodingKey]
    private(set) var count = 0

    init(sink: JSONEncodingSink, depth: Int, id: Int, codingPath: [any CodingKey]) {
        self.sink = sink
        self.depth = depth
        self.id = id
        self.codingPath = codingPath
    }

    private mutating func write(_ body: (JSONEncodingSink) throws -> Void) throws {
        try self.sink.scalar(.element, depth: self.depth, id: self.id, body)
        self.count += 1
    }

    mutating func encodeNil() throws { try self.write { $0.ascii("null") } }
    mutating func encode(_ value: Bool) throws { try self.write { $0.ascii(value ? "true" : "false") } }
    mutating func encode(_ value: String) throws { try self.write { $0.string(value) } }
    mutating func encode(_ value: Double) throws {
        let path = CodingPath(self.codingPath)
        try self.write { try $0.double(value, codingPath: path) }
    }
    mutating func encode(_ value: Float) throws { try self.encode(Double(value)) }
    mutating func encode(_ value: Int) throws { try self.write { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int8) throws { try self.write { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int16) throws { try self.write { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int32) throws { try self.write { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int64) throws { try self.write { $0.integer(value) } }
    mutating func encode(_ value: UInt) throws { try self.write { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt8) throws { try self.write { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt16) throws { try self.write { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt32) throws { try self.write { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt64) throws { try self.write { $0.unsigned(value) } }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = CodingPath(self.codingPath, BSONIndexKey(self.count))
        self.count += 1
        try self.sink.encode(value, member: .element, depth: self.depth, id: self.id, codingPath: path)
    }

    private mutating func nextEncoder() -> JSONValueEncoder {
        let path = CodingPath(self.codingPath, BSONIndexKey(self.count))
        self.count += 1
        return JSONValueEncoder(sink: self.sink, member: .element, depth: self.depth, id: self.id, path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        self.nextEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self.nextEncoder().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { self.nextEncoder() }
}

/// One scalar (or a value that encodes itself) in its parent's place.
struct JSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: JSONValueEncoder
    var codingPath: [any CodingKey] { self.encoder.codingPath }

    mutating func encodeNil() throws { try self.encoder.single { $0.ascii("null") } }
    mutating func encode(_ value: Bool) throws { try self.encoder.single { $0.ascii(value ? "true" : "false") } }
    mutating func encode(_ value: String) throws { try self.encoder.single { $0.string(value) } }
    mutating func encode(_ value: Double) throws {
        let path = self.encoder.path
        try self.encoder.single { try $0.double(value, codingPath: path) }
    }
    mutating func encode(_ value: Float) throws { try self.encode(Double(value)) }
    mutating func encode(_ value: Int) throws { try self.encoder.single { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int8) throws { try self.encoder.single { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int16) throws { try self.encoder.single { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int32) throws { try self.encoder.single { $0.integer(Int64(value)) } }
    mutating func encode(_ value: Int64) throws { try self.encoder.single { $0.integer(value) } }
    mutating func encode(_ value: UInt) throws { try self.encoder.single { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt8) throws { try self.encoder.single { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt16) throws { try self.encoder.single { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt32) throws { try self.encoder.single { $0.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt64) throws { try self.encoder.single { $0.unsigned(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws { try self.encoder.single(value) }
}
