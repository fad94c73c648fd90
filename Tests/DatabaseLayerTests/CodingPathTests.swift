import Foundation
import Testing

@testable import DatabaseLayer

/// The coders build coding paths only when something reads them (``CodingPath``); errors and the `codingPath` a
/// nested type sees must still name the whole path, through objects and arrays.
@Suite struct CodingPathTests {
    struct Leaf: Codable {
        var count: Int
    }

    struct Middle: Codable {
        var leaves: [Leaf]
    }

    struct Root: Codable {
        var middle: Middle
    }

    /// A value that records the coding path its encoder and decoder were given.
    struct Spy: Codable {
        nonisolated(unsafe) static var seen: [String] = []

        init() {}

        init(from decoder: any Decoder) throws {
            Self.seen.append(decoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: "."))
            _ = try decoder.singleValueContainer().decode(String.self)
        }

        func encode(to encoder: any Encoder) throws {
            Self.seen.append(encoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: "."))
            var container = encoder.singleValueContainer()
            try container.encode("spy")
        }
    }

    struct Spied: Codable {
        var outer: [String: [Spy]]
    }

    static let wrong: JSONObject = ["middle": ["leaves": [["count": 1], ["count": "two"]]]]

    static func path(_ error: any Error) -> String? {
        guard case DecodingError.typeMismatch(_, let context) = error else { return nil }
        return context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    @Test func bsonDecoderErrorNamesTheWholePath() throws {
        let bytes = try BSONEncoder.encode(Self.wrong)
        #expect {
            try bytes.withUnsafeBytes { raw in try BSONDecoder.decode(Root.self, from: BSONDocumentView(raw)) }
        } throws: { Self.path($0) == "middle.leaves.[1].count" }
    }

    @Test func treeDecoderErrorNamesTheWholePath() {
        #expect {
            try JSONValueDecoder.decode(Root.self, from: .object(Self.wrong))
        } throws: { Self.path($0) == "middle.leaves.[1].count" }
    }

    @Test func nestedTypesSeeTheirPath() throws {
        Spy.seen = []
        let value = Spied(outer: ["a": [Spy(), Spy()]])
        _ = try JSONBytesEncoder.encode(value)
        _ = try BSONEncoder.encode(value)
        let bytes = try BSONEncoder.encode(value)
        _ = try bytes.withUnsafeBytes { raw in try BSONDecoder.decode(Spied.self, from: BSONDocumentView(raw)) }
        _ = try JSONValueDecoder.decode(Spied.self, from: ["outer": ["a": ["spy", "spy"]]])
        // The JSON encoder, the BSON encoder twice, the BSON decoder and the tree decoder, two elements each.
        #expect(Spy.seen == Array(repeating: ["outer.a.[0]", "outer.a.[1]"], count: 5).flatMap { $0 })
    }
}
