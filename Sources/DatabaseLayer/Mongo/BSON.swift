internal import CMongoC
import Foundation

/// An owned, heap-allocated `bson_t`, freed in `deinit`.
///
/// Callers keep the wrapper alive across every C call that reads its pointer (`withExtendedLifetime`):
/// in release builds Swift may otherwise free it right after the last Swift use.
final class BSONHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Encodes `object` into a new BSON document.
    init(_ object: JSONObject) throws(DatabaseError) {
        guard let pointer = bson_new() else { throw DatabaseError(.internalError, "Out of memory.") }
        self.pointer = pointer
        try BSONWriter.append(object, to: pointer)
    }

    /// Adopts a document allocated with `bson_new`/`bson_copy`.
    init(adopting pointer: OpaquePointer) { self.pointer = pointer }

    deinit { bson_destroy(self.pointer) }

    /// Decodes the document.
    var object: JSONObject { BSONReader.object(from: self.pointer) }
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

    var object: JSONObject { BSONReader.object(from: self.pointer) }

    deinit {
        if self.initialized { bson_destroy(self.pointer) }
        self.raw.deallocate()
    }
}

enum BSONWriter {
    static func append(_ object: JSONObject, to document: OpaquePointer) throws(DatabaseError) {
        for member in object {
            try self.append(member.value, key: member.key, to: document)
        }
    }

    static func append(_ value: JSONValue, key: String, to document: OpaquePointer) throws(DatabaseError) {
        let keyLength = Int32(key.utf8.count)
        let ok: Bool
        switch value {
        case .null: ok = bson_append_null(document, key, keyLength)
        case .bool(let flag): ok = bson_append_bool(document, key, keyLength, flag)
        case .int(let number):
            if let small = Int32(exactly: number) {
                ok = bson_append_int32(document, key, keyLength, small)
            } else {
                ok = bson_append_int64(document, key, keyLength, number)
            }
        case .double(let number): ok = bson_append_double(document, key, keyLength, number)
        case .string(let text): ok = bson_append_utf8(document, key, keyLength, text, Int32(text.utf8.count))
        case .date(let date): ok = bson_append_date_time(document, key, keyLength, Int64((date.timeIntervalSince1970 * 1000).rounded()))
        case .objectID(let hex):
            guard bson_oid_is_valid(hex, hex.utf8.count) else { throw DatabaseError(.invalidInput, "Invalid ObjectId.") }
            var oid = bson_oid_t()
            bson_oid_init_from_string(&oid, hex)
            ok = bson_append_oid(document, key, keyLength, &oid)
        case .array(let values):
            let child = bson_new()!
            defer { bson_destroy(child) }
            for (index, element) in values.enumerated() { try self.append(element, key: String(index), to: child) }
            ok = bson_append_array(document, key, keyLength, child)
        case .object(let object):
            let child = bson_new()!
            defer { bson_destroy(child) }
            try self.append(object, to: child)
            ok = bson_append_document(document, key, keyLength, child)
        }
        guard ok else {
            throw DatabaseError(.invalidInput, "The document is too large or malformed.", debugDetails: "bson_append failed for key \(key)")
        }
    }
}

enum BSONReader {
    static func object(from document: OpaquePointer?) -> JSONObject {
        guard let document else { return JSONObject() }
        return self.withIterator { iterator in
            guard bson_iter_init(iterator, document) else { return JSONObject() }
            return self.object(iterating: iterator)
        }
    }

    /// Runs `body` with heap storage for a `bson_iter_t` (over-aligned, so not representable on Swift's stack).
    private static func withIterator<Result>(_ body: (OpaquePointer) -> Result) -> Result {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: CMongoC_bson_iter_size(), alignment: CMongoC_bson_iter_alignment())
        defer { raw.deallocate() }
        return body(OpaquePointer(raw))
    }

    private static func object(iterating iterator: OpaquePointer) -> JSONObject {
        var members: [(String, JSONValue)] = []
        while bson_iter_next(iterator) {
            members.append((String(cString: bson_iter_key(iterator)), self.value(at: iterator)))
        }
        return JSONObject(members)
    }

    private static func value(at iterator: OpaquePointer) -> JSONValue {
        switch bson_iter_type(iterator) {
        case BSON_TYPE_NULL, BSON_TYPE_UNDEFINED: return .null
        case BSON_TYPE_BOOL: return .bool(bson_iter_bool(iterator))
        case BSON_TYPE_INT32: return .int(Int64(bson_iter_int32(iterator)))
        case BSON_TYPE_INT64: return .int(bson_iter_int64(iterator))
        case BSON_TYPE_DOUBLE: return .double(bson_iter_double(iterator))
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            guard let text = bson_iter_utf8(iterator, &length) else { return .null }
            return .string(String(decoding: UnsafeRawBufferPointer(start: text, count: Int(length)), as: UTF8.self))
        case BSON_TYPE_DATE_TIME:
            return .date(Date(timeIntervalSince1970: Double(bson_iter_date_time(iterator)) / 1000))
        case BSON_TYPE_OID:
            var buffer = [CChar](repeating: 0, count: 25)
            bson_oid_to_string(bson_iter_oid(iterator), &buffer)
            return .objectID(String(decoding: buffer.prefix(24).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case BSON_TYPE_DOCUMENT:
            return self.withIterator { child in
                bson_iter_recurse(iterator, child) ? .object(self.object(iterating: child)) : .object(JSONObject())
            }
        case BSON_TYPE_ARRAY:
            return self.withIterator { child in
                bson_iter_recurse(iterator, child) ? .array(self.object(iterating: child).members.map(\.value)) : .array([])
            }
        case BSON_TYPE_DECIMAL128:
            var decimal = bson_decimal128_t()
            var buffer = [CChar](repeating: 0, count: Int(BSON_DECIMAL128_STRING))
            guard bson_iter_decimal128(iterator, &decimal) else { return .null }
            bson_decimal128_to_string(&decimal, &buffer)
            return .string(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case BSON_TYPE_TIMESTAMP:
            var seconds: UInt32 = 0
            var increment: UInt32 = 0
            bson_iter_timestamp(iterator, &seconds, &increment)
            return .date(Date(timeIntervalSince1970: Double(seconds)))
        default:
            // Binary, regex, code and the rest are not used by these services; keep the key with a null.
            return .null
        }
    }
}
