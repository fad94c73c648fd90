internal import CMongoC
import Foundation

/// An owned, heap-allocated `bson_t`, freed in `deinit`.
///
/// Callers keep the wrapper alive across every C call that reads its pointer (`withExtendedLifetime`):
/// in release builds Swift may otherwise free it right after the last Swift use.
final class BSONHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Copies complete BSON bytes (from ``BSONWriter`` or ``BSONEncoder``) into a new document.
    init(bytes: [UInt8]) throws(DatabaseError) {
        let pointer = bytes.withUnsafeBufferPointer { buffer in bson_new_from_data(buffer.baseAddress, buffer.count) }
        guard let pointer else {
            throw DatabaseError(.internalError, "The document could not be built.", debugDetails: "bson_new_from_data failed")
        }
        self.pointer = pointer
    }

    /// Encodes `object` into a new BSON document.
    convenience init(_ object: JSONObject) throws(DatabaseError) {
        var writer = BSONWriter(capacity: 128)
        try writer.document(object)
        try self.init(bytes: writer.bytes)
    }

    /// Encodes `value`, which must encode as a keyed container, into a new BSON document.
    convenience init(encoding value: some Encodable) throws {
        try self.init(bytes: try BSONEncoder.encode(value))
    }

    /// Adopts a document allocated with `bson_new`/`bson_copy`.
    init(adopting pointer: OpaquePointer) { self.pointer = pointer }

    deinit { bson_destroy(self.pointer) }

    /// Parses MongoDB extended JSON with libbson: an independent second implementation for tests to compare with.
    init(extendedJSON text: String) throws(DatabaseError) {
        var error = bson_error_t()
        guard let pointer = bson_new_from_json(text, -1, &error) else {
            throw DatabaseError(.invalidInput, "Invalid extended JSON.", debugDetails: MongoErrors.text(error))
        }
        self.pointer = pointer
    }

    /// libbson's canonical extended JSON of the document, and whether `bson_validate` accepts it (tests, debugging).
    var canonicalExtendedJSON: (text: String, valid: Bool) {
        withExtendedLifetime(self) {
            var offset = 0
            let valid = bson_validate(self.pointer, BSON_VALIDATE_UTF8, &offset)
            guard let text = bson_as_canonical_extended_json(self.pointer, nil) else { return ("", false) }
            defer { bson_free(text) }
            return (String(cString: text), valid)
        }
    }

    /// A copy of the document's bytes.
    var bytes: [UInt8] {
        withExtendedLifetime(self) { (try? BSONView.withDocument(self.pointer) { Array($0.bytes) }) ?? [] }
    }

    /// Decodes the document.
    var object: JSONObject {
        get throws { try withExtendedLifetime(self) { try BSONView.withDocument(self.pointer) { try $0.object() } } }
    }
}

/// Storage for a `bson_t` that libmongoc initialises itself ("an uninitialized bson_t" out-parameter).
///
/// `bson_t` must be 128-byte aligned and imports as an opaque pointer, so it cannot live on Swift's stack.
final class BSONReplyStorage {
    let pointer: OpaquePointer
    private let raw: UnsafeMutableRawPointer
    private var initialized = false

    init() {
        self.raw = UnsafeMutableRawPointer.allocate(byteCount: CMongoC_bson_size(), alignment: CMongoC_bson_alignment())
        self.raw.initializeMemory(as: UInt8.self, repeating: 0, count: CMongoC_bson_size())
        self.pointer = OpaquePointer(self.raw)
    }

    /// Marks that libmongoc has initialised the document (it always does, even on error), so it must be destroyed.
    func markInitialized() { self.initialized = true }

    /// Runs `body` over the reply's bytes while this storage is alive.
    func withDocument<Result>(_ body: (BSONDocumentView) throws -> Result) throws -> Result {
        try withExtendedLifetime(self) { try BSONView.withDocument(self.pointer, body) }
    }

    deinit {
        if self.initialized { bson_destroy(self.pointer) }
        self.raw.deallocate()
    }
}

/// Views of documents that libbson owns.
enum BSONView {
    /// Runs `body` over the bytes of `document`, which must stay alive for the call.
    static func withDocument<Result>(_ document: OpaquePointer, _ body: (BSONDocumentView) throws -> Result) throws -> Result {
        let bytes = UnsafeRawBufferPointer(start: CMongoC_bson_data(document), count: Int(CMongoC_bson_length(document)))
        return try body(try BSONDocumentView(bytes))
    }
}

/// Decimal128 values as text, through libbson (the services never store them; they are read for completeness).
enum BSONDecimal128 {
    /// The decimal string of the 16 little-endian value bytes.
    static func string(_ value: UnsafeRawBufferPointer) -> String {
        var decimal = bson_decimal128_t()
        decimal.low = UInt64(littleEndian: value.loadUnaligned(as: UInt64.self))
        decimal.high = UInt64(littleEndian: value.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        var buffer = [CChar](repeating: 0, count: Int(BSON_DECIMAL128_STRING))
        bson_decimal128_to_string(&decimal, &buffer)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
