import Foundation

/// Encodes `Encodable` values straight into BSON bytes: no JSON text, no intermediate tree.
///
/// `Date` becomes a BSON date, ``JSONValue``/``JSONObject`` members are written as they are, absent optionals
/// (`encodeIfPresent`) are left out, and the top-level value must encode as a keyed container (a document).
enum BSONEncoder {
    /// The BSON document of `value`.
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        if let object = value as? JSONObject {
            var writer = BSONWriter()
            try writer.document(object)
            return writer.bytes
        }
        let sink = BSONEncodingSink()
        try value.encode(to: BSONValueEncoder(sink: sink, slot: .root, path: CodingPath([])))
        return try sink.finish()
    }
}

/// The state one ``BSONEncoder/encode(_:)`` call shares between its encoders and containers.
///
/// Documents are open in a stack. A container writes only into the document it opened; before it writes, every
/// document opened after it (a member's value that has finished) is closed. A container used after its document
/// was closed is an error rather than a corrupt document.
final class BSONEncodingSink {
    var writer = BSONWriter()
    /// Open documents: where each began (for its length) and the id its containers hold.
    private var open: [(start: Int, id: Int)] = []
    private var nextID = 0
    /// The first misuse seen by a non-throwing API (`unkeyedContainer()` at the top level, …).
    var deferredError: (any Error)?

    init() {
        self.open.append((start: self.writer.beginDocument(), id: 0))
        self.nextID = 1
    }

    /// Closes the documents above `depth` and checks that `id` is still the one open there.
    func prepare(depth: Int, id: Int) throws {
        if let error = self.deferredError { throw error }
        while self.open.count > depth + 1 { try self.writer.endDocument(self.open.removeLast().start) }
        guard self.open.count == depth + 1, self.open[depth].id == id else {
            throw EncodingError.invalidValue(
                (), .init(codingPath: [], debugDescription: "A BSON container was used after its document was closed."))
        }
    }

    /// Opens a document (or array) as member `slot` of the document at `depth`; returns its depth and id.
    func openDocument(_ slot: BSONEncodingSlot, array: Bool) throws -> (depth: Int, id: Int) {
        guard case .member(let depth, let id, let key) = slot else {
            // The root document is open from the start.
            guard !array else { throw Self.topLevelNotDocument }
            return (0, 0)
        }
        try self.prepare(depth: depth, id: id)
        try key.write(array ? .array : .document, into: &self.writer)
        let start = self.writer.beginDocument()
        let newID = self.nextID
        self.nextID += 1
        self.open.append((start: start, id: newID))
        return (depth + 1, newID)
    }

    static let topLevelNotDocument = EncodingError.invalidValue(
        (), .init(codingPath: [], debugDescription: "A stored value must encode as a document (a keyed container)."))

    /// Closes every open document and returns the bytes.
    func finish() throws -> [UInt8] {
        if let error = self.deferredError { throw error }
        while let last = self.open.popLast() { try self.writer.endDocument(last.start) }
        return self.writer.bytes
    }

    // MARK: Values

    /// Writes `value` as member `key` of the document at `depth`/`id`.
    func encode<T: Encodable>(_ value: T, key: BSONKey, depth: Int, id: Int, codingPath: CodingPath) throws {
        try self.prepare(depth: depth, id: id)
        if try self.encodeKnown(value, key: key) { return }
        let encoder = BSONValueEncoder(sink: self, slot: .member(depth: depth, id: id, key: key), path: codingPath)
        try value.encode(to: encoder)
        if !encoder.wroteSomething {
            // A value that encodes nothing is an empty document, as JSONEncoder writes `{}`.
            _ = try self.openDocument(.member(depth: depth, id: id, key: key), array: false)
        }
    }

    /// Types with a BSON form of their own; false for everything that encodes itself.
    ///
    /// Metatype comparisons, not `as?` casts: a cast of an unspecialized generic value goes through the runtime's
    /// dynamic cast for every member, which is the kind of per-request cost this encoder exists to avoid.
    private func encodeKnown<T: Encodable>(_ value: T, key: BSONKey) throws(DatabaseError) -> Bool {
        if T.self == String.self {
            try key.write(.string, into: &self.writer)
            try self.writer.string(unsafeBitCast(value, to: String.self))
        } else if T.self == Date.self {
            try key.write(.dateTime, into: &self.writer)
            self.writer.date(unsafeBitCast(value, to: Date.self))
        } else if T.self == Int.self {
            try self.writeInteger(Int64(unsafeBitCast(value, to: Int.self)), key: key)
        } else if T.self == Bool.self {
            try key.write(.bool, into: &self.writer)
            self.writer.bool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == JSONValue.self {
            try key.writeMember(unsafeBitCast(value, to: JSONValue.self), into: &self.writer)
        } else if T.self == JSONObject.self {
            try key.writeMember(.object(unsafeBitCast(value, to: JSONObject.self)), into: &self.writer)
        } else {
            return false
        }
        return true
    }

    func writeInteger(_ number: Int64, key: BSONKey) throws(DatabaseError) {
        if let small = Int32(exactly: number) {
            try key.write(.int32, into: &self.writer)
            self.writer.int32(small)
        } else {
            try key.write(.int64, into: &self.writer)
            self.writer.int64(number)
        }
    }

    func writeDouble(_ number: Double, key: BSONKey) throws(DatabaseError) {
        try key.write(.double, into: &self.writer)
        self.writer.double(number)
    }

    func writeNull(key: BSONKey) throws(DatabaseError) {
        try key.write(.null, into: &self.writer)
    }

    func writeUnsigned(_ number: UInt64, key: BSONKey, codingPath: CodingPath) throws {
        guard let signed = Int64(exactly: number) else {
            throw EncodingError.invalidValue(number, .init(codingPath: codingPath.keys, debugDescription: "BSON integers are 64-bit signed."))
        }
        try self.writeInteger(signed, key: key)
    }
}

/// A member's key: a name in a document, or a position in an array.
enum BSONKey {
    case name(String)
    case index(Int)

    func write(_ type: BSONType, into writer: inout BSONWriter) throws(DatabaseError) {
        switch self {
        case .name(let name): try writer.key(type, name)
        case .index(let index): writer.indexKey(type, index)
        }
    }

    func writeMember(_ value: JSONValue, into writer: inout BSONWriter) throws(DatabaseError) {
        switch self {
        case .name(let name): try writer.member(name, value)
        case .index(let index): try writer.member(String(index), value)
        }
    }
}

/// Where a value being encoded goes.
enum BSONEncodingSlot {
    /// The top-level document.
    case root
    /// Member `key` of the open document at `depth` with `id`.
    case member(depth: Int, id: Int, key: BSONKey)
}

/// The `Encoder` handed to a value's `encode(to:)`; it opens the value's document or array when first asked.
final class BSONValueEncoder: Encoder {
    let sink: BSONEncodingSink
    let slot: BSONEncodingSlot
    let path: CodingPath
    var codingPath: [any CodingKey] { self.path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// The document or array this value opened, once it has.
    private var opened: (depth: Int, id: Int, array: Bool)?
    private(set) var wroteSomething = false

    init(sink: BSONEncodingSink, slot: BSONEncodingSlot, path: CodingPath) {
        self.sink = sink
        self.slot = slot
        self.path = path
    }

    private func open(array: Bool) -> (depth: Int, id: Int)? {
        if let opened = self.opened {
            guard opened.array == array else {
                self.fail("A value asked for a keyed and an unkeyed container at once.")
                return nil
            }
            return (opened.depth, opened.id)
        }
        do {
            let (depth, id) = try self.sink.openDocument(self.slot, array: array)
            self.opened = (depth, id, array)
            self.wroteSomething = true
            return (depth, id)
        } catch {
            if self.sink.deferredError == nil { self.sink.deferredError = error }
            return nil
        }
    }

    fileprivate func fail(_ message: String) {
        if self.sink.deferredError == nil {
            self.sink.deferredError = EncodingError.invalidValue((), .init(codingPath: self.codingPath, debugDescription: message))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        // A failed open leaves the deferred error, which the next write (or finish) throws.
        let (depth, id) = self.open(array: false) ?? (-1, -1)
        return KeyedEncodingContainer(BSONKeyedEncodingContainer<Key>(sink: self.sink, depth: depth, id: id, codingPath: self.codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let (depth, id) = self.open(array: true) ?? (-1, -1)
        return BSONUnkeyedEncodingContainer(sink: self.sink, depth: depth, id: id, codingPath: self.codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        if case .root = self.slot { self.fail("A stored value must encode as a document (a keyed container).") }
        self.wroteSomething = true
        return BSONSingleValueEncodingContainer(encoder: self)
    }

    /// Writes one scalar into this value's slot.
    fileprivate func writeSingle(_ body: (BSONEncodingSink, BSONKey) throws -> Void) throws {
        guard case .member(let depth, let id, let key) = self.slot else { throw BSONEncodingSink.topLevelNotDocument }
        try self.sink.prepare(depth: depth, id: id)
        try body(self.sink, key)
    }

    fileprivate func encodeSingle<T: Encodable>(_ value: T) throws {
        guard case .member(let depth, let id, let key) = self.slot else { throw BSONEncodingSink.topLevelNotDocument }
        try self.sink.encode(value, key: key, depth: depth, id: id, codingPath: self.path)
    }
}

/// The members of one document.
struct BSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: BSONEncodingSink
    let depth: Int
    let id: Int
    let codingPath: [any CodingKey]

    private func write(_ key: Key, _ body: (BSONEncodingSink, BSONKey) throws -> Void) throws {
        try self.sink.prepare(depth: self.depth, id: self.id)
        try body(self.sink, .name(key.stringValue))
    }

    mutating func encodeNil(forKey key: Key) throws { try self.write(key) { sink, key in try sink.writeNull(key: key) } }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try self.write(key) { sink, key in
            try key.write(.bool, into: &sink.writer)
            sink.writer.bool(value)
        }
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try self.write(key) { sink, key in
            try key.write(.string, into: &sink.writer)
            try sink.writer.string(value)
        }
    }
    mutating func encode(_ value: Double, forKey key: Key) throws { try self.write(key) { try $0.writeDouble(value, key: $1) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { try self.write(key) { try $0.writeDouble(Double(value), key: $1) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { try self.write(key) { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try self.write(key) { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try self.write(key) { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try self.write(key) { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try self.write(key) { try $0.writeInteger(value, key: $1) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try self.unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try self.unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try self.unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try self.unsigned(UInt64(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try self.unsigned(value, key) }

    private func unsigned(_ value: UInt64, _ key: Key) throws {
        let path = CodingPath(self.codingPath, key)
        try self.write(key) { try $0.writeUnsigned(value, key: $1, codingPath: path) }
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try self.sink.encode(value, key: .name(key.stringValue), depth: self.depth, id: self.id, codingPath: CodingPath(self.codingPath, key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        BSONValueEncoder(sink: self.sink, slot: self.slot(key), path: CodingPath(self.codingPath, key)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        BSONValueEncoder(sink: self.sink, slot: self.slot(key), path: CodingPath(self.codingPath, key)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        BSONValueEncoder(sink: self.sink, slot: .member(depth: self.depth, id: self.id, key: .name("super")), path: CodingPath(self.codingPath))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        BSONValueEncoder(sink: self.sink, slot: self.slot(key), path: CodingPath(self.codingPath, key))
    }

    private func slot(_ key: Key) -> BSONEncodingSlot { .member(depth: self.depth, id: self.id, key: .name(key.stringValue)) }
}

/// The elements of one array.
struct BSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let sink: BSONEncodingSink
    let depth: Int
    let id: Int
    let codingPath: [any CodingKey]
    private(set) var count = 0

    init(sink: BSONEncodingSink, depth: Int, id: Int, codingPath: [any CodingKey]) {
        self.sink = sink
        self.depth = depth
        self.id = id
        self.codingPath = codingPath
    }

    private var nextSlot: BSONEncodingSlot { .member(depth: self.depth, id: self.id, key: .index(self.count)) }

    private mutating func write(_ body: (BSONEncodingSink, BSONKey) throws -> Void) throws {
        try self.sink.prepare(depth: self.depth, id: self.id)
        try body(self.sink, .index(self.count))
        self.count += 1
    }

    mutating func encodeNil() throws { try self.write { try $0.writeNull(key: $1) } }
    mutating func encode(_ value: Bool) throws {
        try self.write { sink, key in
            try key.write(.bool, into: &sink.writer)
            sink.writer.bool(value)
        }
    }
    mutating func encode(_ value: String) throws {
        try self.write { sink, key in
            try key.write(.string, into: &sink.writer)
            try sink.writer.string(value)
        }
    }
    mutating func encode(_ value: Double) throws { try self.write { try $0.writeDouble(value, key: $1) } }
    mutating func encode(_ value: Float) throws { try self.write { try $0.writeDouble(Double(value), key: $1) } }
    mutating func encode(_ value: Int) throws { try self.write { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int8) throws { try self.write { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int16) throws { try self.write { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int32) throws { try self.write { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int64) throws { try self.write { try $0.writeInteger(value, key: $1) } }
    mutating func encode(_ value: UInt) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try self.unsigned(value) }

    private mutating func unsigned(_ value: UInt64) throws {
        let path = CodingPath(self.codingPath)
        try self.write { try $0.writeUnsigned(value, key: $1, codingPath: path) }
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = self.count
        self.count += 1
        try self.sink.encode(value, key: .index(index), depth: self.depth, id: self.id, codingPath: CodingPath(self.codingPath, BSONIndexKey(index)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let slot = self.nextSlot
        self.count += 1
        return BSONValueEncoder(sink: self.sink, slot: slot, path: CodingPath(self.codingPath)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let slot = self.nextSlot
        self.count += 1
        return BSONValueEncoder(sink: self.sink, slot: slot, path: CodingPath(self.codingPath)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let slot = self.nextSlot
        self.count += 1
        return BSONValueEncoder(sink: self.sink, slot: slot, path: CodingPath(self.codingPath))
    }
}

/// One scalar (or a value that encodes itself) in its parent's slot.
struct BSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BSONValueEncoder
    var codingPath: [any CodingKey] { self.encoder.codingPath }

    mutating func encodeNil() throws { try self.encoder.writeSingle { try $0.writeNull(key: $1) } }
    mutating func encode(_ value: Bool) throws {
        try self.encoder.writeSingle { sink, key in
            try key.write(.bool, into: &sink.writer)
            sink.writer.bool(value)
        }
    }
    mutating func encode(_ value: String) throws {
        try self.encoder.writeSingle { sink, key in
            try key.write(.string, into: &sink.writer)
            try sink.writer.string(value)
        }
    }
    mutating func encode(_ value: Double) throws { try self.encoder.writeSingle { try $0.writeDouble(value, key: $1) } }
    mutating func encode(_ value: Float) throws { try self.encoder.writeSingle { try $0.writeDouble(Double(value), key: $1) } }
    mutating func encode(_ value: Int) throws { try self.encoder.writeSingle { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int8) throws { try self.encoder.writeSingle { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int16) throws { try self.encoder.writeSingle { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int32) throws { try self.encoder.writeSingle { try $0.writeInteger(Int64(value), key: $1) } }
    mutating func encode(_ value: Int64) throws { try self.encoder.writeSingle { try $0.writeInteger(value, key: $1) } }
    mutating func encode(_ value: UInt) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try self.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try self.unsigned(value) }

    private func unsigned(_ value: UInt64) throws {
        let path = self.encoder.path
        try self.encoder.writeSingle { try $0.writeUnsigned(value, key: $1, codingPath: path) }
    }

    mutating func encode<T: Encodable>(_ value: T) throws { try self.encoder.encodeSingle(value) }
}

/// An array position as a coding key, for error paths.
struct BSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { String(self.intValue ?? 0) }
    init(_ index: Int) { self.intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}
