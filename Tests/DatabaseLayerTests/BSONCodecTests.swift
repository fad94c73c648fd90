import Foundation
import Testing

@testable import DatabaseLayer

/// A stored record of the shape the services keep: optionals, dates, nested free-form documents, arrays of records.
private struct Record: Codable, Equatable {
    struct Entry: Codable, Equatable {
        var attempt: Int
        var note: String
        var at: Date
    }

    var id: String
    var tenant: String?
    var count: Int
    var ratio: Double
    var big: Int64
    var flag: Bool
    var payload: JSONObject
    var result: JSONValue?
    var tags: [String: String]
    var entries: [Entry]
    var createdAt: Date
    var finishedAt: Date?
}

private let sampleDate = Date(timeIntervalSince1970: 1_717_243_200.123)

private func sampleRecord() -> Record {
    Record(
        id: "task-1", tenant: nil, count: 3, ratio: 0.5, big: 5_000_000_000, flag: true,
        payload: ["text": "héllo \"quoted\"", "nested": ["list": [1, 2.5, "x", nil, ["deep": true]]], "when": .date(sampleDate)],
        result: nil, tags: ["team": "core"],
        entries: [.init(attempt: 1, note: "first", at: sampleDate)], createdAt: sampleDate, finishedAt: nil
    )
}

@Suite struct BSONCodecTests {
    /// libbson reads what the Swift writer wrote, member by member, in order and with BSON's own types.
    @Test func libbsonReadsTheEncoderOutput() throws {
        let handle = try BSONHandle(bytes: try BSONEncoder.encode(sampleRecord()))
        let (text, valid) = handle.canonicalExtendedJSON
        #expect(valid)
        let expected = """
            { "id" : "task-1", "count" : { "$numberInt" : "3" }, "ratio" : { "$numberDouble" : "0.5" }, \
            "big" : { "$numberLong" : "5000000000" }, "flag" : true, "payload" : { "text" : "héllo \\"quoted\\"", \
            "nested" : { "list" : [ { "$numberInt" : "1" }, { "$numberDouble" : "2.5" }, "x", null, { "deep" : true } ] }, \
            "when" : { "$date" : { "$numberLong" : "1717243200123" } } }, "tags" : { "team" : "core" }, \
            "entries" : [ { "attempt" : { "$numberInt" : "1" }, "note" : "first", \
            "at" : { "$date" : { "$numberLong" : "1717243200123" } } } ], \
            "createdAt" : { "$date" : { "$numberLong" : "1717243200123" } } }
            """
        #expect(text == expected)
    }

    /// Absent optionals are left out (a missing tenant is what scopes tenant-less records), not stored as null.
    @Test func absentOptionalsAreNotStored() throws {
        let object = try JSONObject(encoding: sampleRecord())
        #expect(object["tenant"] == nil)
        #expect(object["finishedAt"] == nil)
        #expect(object["result"] == nil)
        #expect(object["createdAt"] == .date(Date(timeIntervalSince1970: 1_717_243_200.123)))
    }

    @Test func roundTrips() throws {
        var record = sampleRecord()
        record.tenant = "acme"
        record.result = ["ok": true, "n": 2]
        record.finishedAt = sampleDate.addingTimeInterval(1)
        let bytes = try BSONEncoder.encode(record)
        let decoded = try bytes.withUnsafeBytes { raw in try BSONDecoder.decode(Record.self, from: BSONDocumentView(raw)) }
        #expect(decoded == record)
    }

    /// Documents libbson built (from extended JSON) decode through the Swift reader.
    @Test func decodesWhatLibbsonBuilt() throws {
        let handle = try BSONHandle(
            extendedJSON: """
                {"id": "t", "count": {"$numberLong": "7"}, "ratio": 2, "big": 1, "flag": false,
                 "payload": {"o": {"$oid": "0123456789abcdef01234567"}},
                 "result": null, "tags": {}, "entries": [], "createdAt": {"$date": "2024-06-01T12:00:00.123Z"}}
                """)
        let record = try handle.bytes.withUnsafeBytes { raw in try BSONDecoder.decode(Record.self, from: BSONDocumentView(raw)) }
        #expect(record.count == 7)
        #expect(record.ratio == 2)
        #expect(record.result == nil)
        #expect(record.payload["o"] == .objectID("0123456789abcdef01234567"))
        // BSON keeps milliseconds; compare in them, since two routes to a Date can differ below that.
        #expect((record.createdAt.timeIntervalSince1970 * 1000).rounded() == 1_717_243_200_123)
    }

    /// nx-27017 stores dates written by update operators as text; they still decode as dates.
    @Test func readsTheStandInsTextDates() throws {
        struct Stamp: Decodable { var at: Date }
        let bytes = try { () throws -> [UInt8] in
            var writer = BSONWriter()
            try writer.document(["at": "2024-01-02 03:04:05.678000"])
            return writer.bytes
        }()
        let stamp = try bytes.withUnsafeBytes { raw in try BSONDecoder.decode(Stamp.self, from: BSONDocumentView(raw)) }
        #expect(stamp.at == ISO8601.parse("2024-01-02T03:04:05.678Z"))
    }

    @Test func typeMismatchNamesTheField() throws {
        struct Wants: Decodable { var count: String }
        let bytes = try BSONEncoder.encode(["count": 3] as JSONObject)
        #expect {
            try bytes.withUnsafeBytes { raw in try BSONDecoder.decode(Wants.self, from: BSONDocumentView(raw)) }
        } throws: { error in
            guard case DecodingError.typeMismatch(_, let context) = error else { return false }
            return context.codingPath.map(\.stringValue) == ["count"]
        }
    }

    @Test func integersMustBeExact() throws {
        struct Whole: Decodable { var n: Int }
        let fractional = try BSONEncoder.encode(["n": 1.5] as JSONObject)
        #expect(throws: DecodingError.self) {
            try fractional.withUnsafeBytes { raw in try BSONDecoder.decode(Whole.self, from: BSONDocumentView(raw)) }
        }
        let whole = try BSONEncoder.encode(["n": 2.0] as JSONObject)
        #expect(try whole.withUnsafeBytes { raw in try BSONDecoder.decode(Whole.self, from: BSONDocumentView(raw)) }.n == 2)
    }

    /// A value must be a document at the top level; a NUL in a key is refused rather than shifting the bytes.
    @Test func refusesWhatBSONCannotHold() throws {
        #expect(throws: (any Error).self) { try BSONEncoder.encode([1, 2]) }
        #expect(throws: DatabaseError.self) { try BSONEncoder.encode(["a\u{0}b": 1] as JSONObject) }
        struct Keyed: Encodable { var values: [String: Int] }
        #expect(throws: DatabaseError.self) { try BSONEncoder.encode(Keyed(values: ["x\u{0}": 1])) }
    }

    /// Custom encodings that use nested containers and super encoders still produce a well-formed document.
    @Test func nestedContainersCloseInOrder() throws {
        struct Custom: Encodable {
            enum Keys: String, CodingKey { case a, b, c }
            func encode(to encoder: any Encoder) throws {
                var outer = encoder.container(keyedBy: Keys.self)
                var inner = outer.nestedContainer(keyedBy: Keys.self, forKey: .a)
                try inner.encode(1, forKey: .b)
                var list = outer.nestedUnkeyedContainer(forKey: .b)
                try list.encode("x")
                try list.encode(true)
                try outer.encode("after", forKey: .c)
            }
        }
        let handle = try BSONHandle(bytes: try BSONEncoder.encode(Custom()))
        let (text, valid) = handle.canonicalExtendedJSON
        #expect(valid)
        #expect(text == #"{ "a" : { "b" : { "$numberInt" : "1" } }, "b" : [ "x", true ], "c" : "after" }"#)
    }

    /// Writing through a container whose document was already closed is an error, not a corrupt document.
    @Test func aClosedContainerCannotBeReused() throws {
        struct Misuse: Encodable {
            enum Keys: String, CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var outer = encoder.container(keyedBy: Keys.self)
                var inner = outer.nestedContainer(keyedBy: Keys.self, forKey: .a)
                try outer.encode(1, forKey: .b)
                try inner.encode(2, forKey: .b)
            }
        }
        #expect(throws: EncodingError.self) { try BSONEncoder.encode(Misuse()) }
    }

    /// Truncated or inconsistent bytes are refused before any read past their end.
    @Test(arguments: [
        [UInt8](),
        [5, 0, 0, 0],
        [6, 0, 0, 0, 0, 0],
        [12, 0, 0, 0, 0x02, 0x61, 0, 0xFF, 0, 0, 0, 0],
        [13, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0, 0],
        [10, 0, 0, 0, 0x63, 0x61, 0, 0, 0, 0],
    ])
    func refusesMalformedDocuments(_ bytes: [UInt8]) {
        #expect(throws: DatabaseError.self) {
            try bytes.withUnsafeBytes { raw in try BSONDocumentView(raw).object() }
        }
    }

    /// ``OmittingKeys`` drops only the named top-level keys, and nothing else changes.
    @Test func omittingKeys() throws {
        var record = sampleRecord()
        record.tenant = "acme"
        let object = try JSONObject(encoding: OmittingKeys(record, omitting: ["tenant", "count"]))
        #expect(object["tenant"] == nil)
        #expect(object["count"] == nil)
        #expect(object["id"] == "task-1")
        #expect(object["payload"]?.objectValue?["text"] == "héllo \"quoted\"")
    }
}
