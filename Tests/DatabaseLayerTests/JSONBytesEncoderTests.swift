import Foundation
import Testing

@testable import DatabaseLayer

/// A response of the shape the services send: optionals, dates, free-form documents, nested records, arrays.
private struct Reply: Codable {
    struct Entry: Codable {
        var attempt: Int
        var note: String
        var at: Date
    }

    var id: String
    var tenant: String?
    var count: Int
    var ratio: Double
    var flag: Bool
    var payload: JSONObject
    var result: JSONValue?
    var tags: [String: String]
    var entries: [Entry]
    var createdAt: Date
    var finishedAt: Date?
    var path: String
}

@Suite struct JSONBytesEncoderTests {
    private func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = ISO8601.encodingStrategy
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private func ours(_ value: some Encodable) throws -> String {
        String(decoding: try JSONBytesEncoder.encode(value), as: UTF8.self)
    }

    /// Parsed, the output equals what the services' JSONEncoder wrote; unlike it, members keep declaration order.
    @Test func matchesFoundation() throws {
        let date = Date(timeIntervalSince1970: 1_717_243_200.123)
        let reply = Reply(
            id: "t-1", tenant: nil, count: -3, ratio: 0.25, flag: false,
            payload: ["text": "tab\tquote\" back\\ nl\n bell\u{7} é ✓", "list": [1, "x", nil, true, ["k": 2.5]], "when": .date(date)],
            result: ["ok": true], tags: ["team": "core"], entries: [.init(attempt: 1, note: "n", at: date)],
            createdAt: date, finishedAt: nil, path: "/api/v1/tasks"
        )
        for value in [[reply], [reply, reply]] {
            let mine = try JSONSerialization.jsonObject(with: Data(JSONBytesEncoder.encode(value))) as? NSArray
            let theirs = try JSONSerialization.jsonObject(with: Data(self.foundation(value).utf8)) as? NSArray
            #expect(mine != nil && mine == theirs)
        }
        #expect(try self.ours(reply).hasPrefix(#"{"id":"t-1","count":-3,"ratio":0.25,"flag":false,"payload":{"text":"#))
        // Escapes byte for byte: quote, backslash, the short forms, \u00XX for other controls, UTF-8 as is.
        let text = "tab\tquote\" back\\ nl\n cr\r bs\u{8} ff\u{C} bell\u{7} é ✓ /"
        #expect(try self.ours(text) == self.foundation(text))
        #expect(try self.ours("top") == self.foundation("top"))
        #expect(try self.ours(Optional<Int>.none) == "null")
    }

    /// A whole double keeps its decimal point, so clients still read a float.
    @Test func wholeDoublesStayDoubles() throws {
        #expect(try self.ours(["a": 3.0] as [String: Double]) == #"{"a":3.0}"#)
        #expect(try self.ours([1e20]) == "[1e+20]")
    }

    @Test func refusesNonFiniteNumbers() {
        #expect(throws: EncodingError.self) { try JSONBytesEncoder.encode([Double.nan]) }
    }

    /// ``OmittingKeys`` through this encoder: the omitted keys are absent, the rest unchanged.
    @Test func omitsKeys() throws {
        struct Pair: Encodable {
            var a = 1
            var b = "x"
        }
        #expect(try self.ours(OmittingKeys(Pair(), omitting: ["a"])) == #"{"b":"x"}"#)
    }
}
