import Foundation
import Testing

@testable import DatabaseLayer

/// ``JSONParser`` and ``JSONValueDecoder`` replaced Foundation's `JSONDecoder` on every request body: these suites
/// hold them to what Foundation gave on random and hand-picked input, and pin down where they deliberately differ.
@Suite struct JSONParserTests {
    /// What request bodies were parsed with before: Foundation, objects kept plain.
    static func foundationValue(_ text: String) throws -> JSONValue {
        let decoder = JSONDecoder()
        decoder.userInfo[JSONValue.plainObjectsKey] = true
        return try decoder.decode(JSONValue.self, from: Data(text.utf8))
    }

    static func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONParser.parse(text, plainObjects: true) }

    // MARK: random documents

    /// Random JSON text: every escape form, surrogate pairs, numbers in every notation, random whitespace.
    struct TextGenerator {
        var random: SplitMix64

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self.random) }

        mutating func space() -> String { ["", "", " ", "\n", "\t", " \r\n "][self.int(0...5)] }

        mutating func string() -> String {
            var text = "\""
            for _ in 0..<self.int(0...12) {
                switch self.int(0...9) {
                case 0: text += ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"][self.int(0...7)]
                case 1: text += String(format: "\\u%04x", self.int(0...0xD7FF))
                case 2: text += String(format: "\\u%04X\\u%04X", self.int(0xD800...0xDBFF), self.int(0xDC00...0xDFFF))
                case 3: text += ["é", "ß", "中", "😀", "\u{7F}", "\u{10FFFF}"][self.int(0...5)]
                default:
                    let byte = UInt8(self.int(0x20...0x7E))
                    text.unicodeScalars.append(Unicode.Scalar(byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") ? 0x5F : byte))
                }
            }
            return text + "\""
        }

        mutating func number() -> String {
            var text = self.int(0...3) == 0 ? "-" : ""
            // Integers of any size; fractions and exponents only below 2^53, since beyond it Foundation's own
            // classification is not consistent (`40877454425499068.2` was an Int64, `368412734479424883.9` a Double).
            if self.int(0...4) == 1 {
                return text + String(UInt64.random(in: 0...UInt64.max, using: &self.random) >> UInt64(self.int(0...63)))
            }
            text += String(self.int(0...1) == 0 ? self.int(0...9) : self.int(1...999_999))
            if self.int(0...2) == 0 { text += "." + String(self.int(0...999_999)) }
            if self.int(0...3) == 0 { text += ["e", "E", "e+", "e-", "E-"][self.int(0...4)] + String(self.int(0...9)) }
            return text
        }

        mutating func value(depth: Int) -> String {
            let kind = depth > 4 ? self.int(0...3) : self.int(0...5)
            switch kind {
            case 0: return ["true", "false", "null"][self.int(0...2)]
            case 1: return self.number()
            case 2, 3: return self.string()
            case 4:
                let values = (0..<self.int(0...5)).map { _ in self.space() + self.value(depth: depth + 1) + self.space() }
                return "[" + values.joined(separator: ",") + self.space() + "]"
            default:
                var members: [String] = []
                for index in 0..<self.int(0...6) {
                    // An index suffix keeps the keys unique: repeated keys are where the two deliberately differ.
                    let key = String(self.string().dropLast()) + "_\(index)\""
                    members.append(self.space() + key + self.space() + ":" + self.space() + self.value(depth: depth + 1) + self.space())
                }
                return "{" + members.joined(separator: ",") + self.space() + "}"
            }
        }
    }

    @Test func randomDocumentsParseAsFoundationParsedThem() throws {
        var generator = TextGenerator(random: SplitMix64(state: 20_261_203))
        for _ in 0..<5_000 {
            let text = generator.space() + generator.value(depth: 0) + generator.space()
            guard let expected = try? Self.foundationValue(text) else {
                Issue.record("Foundation refused \(text)")
                continue
            }
            #expect(try Self.parse(text) == expected, "\(text)")
        }
    }

    // MARK: hand-picked values

    @Test(arguments: [
        ("0", JSONValue.int(0)), ("-0", .int(0)), ("-0.0", .int(0)), ("1.0", .int(1)), ("1e2", .int(100)), ("1.5e3", .int(1500)),
        ("1E2", .int(100)), ("1e-400", .int(0)), ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)), ("12345678901234567890", .double(1.2345678901234567e19)),
        ("0.1", .double(0.1)), ("-2.5", .double(-2.5)), ("100000000000000000000.0", .double(1e20)),
        (#""\ud83d\ude00""#, .string("😀")), (#""\u0000""#, .string("\u{0}")), (#""\/""#, .string("/")), (#""é""#, .string("é")),
        ("[]", .array([])), ("{}", .object([:])), ("null", .null), (" [1 , 2 ] ", .array([1, 2])), ("true", .bool(true)),
    ])
    func valuesAsFoundationClassifiedThem(text: String, expected: JSONValue) throws {
        #expect(try Self.parse(text) == expected)
        #expect(try Self.foundationValue(text) == expected)
    }

    @Test func keysKeepTheirOrder() throws {
        let object = try #require(try Self.parse(#"{"b":1,"a":2,"c":{"z":1,"y":2}}"#).objectValue)
        #expect(object.keys == ["b", "a", "c"])
        #expect(object["c"]?.objectValue?.keys == ["z", "y"])
    }

    @Test(arguments: [
        ("", "unexpected end of the JSON text at byte 0"),
        ("1 2", "unexpected text after the JSON value at byte 2"),
        ("[1,]", "expected a JSON value at byte 3"),
        (#"{"a":1,}"#, "expected a quoted object key at byte 7"),
        (#"{"a":1,"a":2}"#, "a key appears twice in one object at byte 7"),
        ("01", "a number may not have a leading zero at byte 1"),
        ("1.", "expected a digit after '.' at byte 2"),
        (".5", "expected a JSON value at byte 0"),
        ("+1", "expected a JSON value at byte 0"),
        ("-", "expected a digit at byte 1"),
        ("1e", "expected a digit in an exponent at byte 2"),
        ("1E400", "a number is out of range at byte 0"),
        ("tru", "expected a JSON value at byte 0"),
        ("NaN", "expected a JSON value at byte 0"),
        ("\"a\nb\"", "a control character must be escaped in a string at byte 2"),
        (#""\x""#, "unknown escape in a string at byte 2"),
        (#""\ud800""#, "a high surrogate escape must be followed by a low one at byte 7"),
        (#""\udc00""#, "a low surrogate escape without a high one at byte 7"),
        (#""\u12""#, #"expected four hex digits after \u at byte 3"#),
        (#""abc"#, "unterminated string at byte 4"),
        (#"{"a" 1}"#, "expected ':' after an object key at byte 5"),
        (#"{"a":1 "b":2}"#, "expected ',' or '}' in an object at byte 7"),
        ("[1 2]", "expected ',' or ']' in an array at byte 3"),
    ])
    func malformedTextSaysWhatAndWhere(text: String, message: String) {
        #expect(throws: JSONParseError.self) { try Self.parse(text) }
        do {
            _ = try Self.parse(text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func invalidUTF8IsRefused() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONParseError(offset: 1, reason: "a string is not valid UTF-8")) {
                try bytes.withUnsafeBytes { try JSONParser.parse($0) }
            }
        }
    }

    @Test func nestingIsLimited() throws {
        let deepest = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try Self.parse(deepest) }
        let tooDeep = "[" + deepest + "]"
        #expect(throws: JSONParseError(offset: JSONParser.maximumDepth, reason: "nested deeper than 512 levels")) { try Self.parse(tooDeep) }
    }

    @Test func manyKeysAreCheckedForRepeats() throws {
        let keys = (0..<40).map { "\"k\($0)\":\($0)" }
        #expect(try Self.parse("{" + keys.joined(separator: ",") + "}").objectValue?.count == 40)
        #expect(throws: JSONParseError.self) { try Self.parse("{" + keys.joined(separator: ",") + ",\"k3\":0}") }
    }

    @Test func extendedJSONOnlyWhenAsked() throws {
        let text = #"{"at":{"$date":"2026-12-03T10:00:00Z"},"id":{"$oid":"0123456789abcdef01234567"},"n":{"$date":1000}}"#
        let stored = try #require(try JSONParser.parse(text).objectValue)
        #expect(stored["at"] == .date(Date(timeIntervalSince1970: 1_796_292_000)))
        #expect(stored["id"] == .objectID("0123456789abcdef01234567"))
        #expect(stored["n"] == .date(Date(timeIntervalSince1970: 1)))
        let plain = try #require(try Self.parse(text).objectValue)
        #expect(plain["at"] == .object(["$date": "2026-12-03T10:00:00Z"]))
        #expect(try JSONValue(jsonText: text) == .object(stored))
    }
}

/// The typed half: values read from the tree must equal what Foundation decoded from the text, and the errors must
/// read the same in a problem detail.
@Suite struct JSONValueDecoderTests {
    struct Inner: Codable, Equatable {
        var flag: Bool
        var items: [Int]
    }

    struct Sample: Codable, Equatable {
        var name: String
        var count: Int
        var ratio: Double?
        var tags: [String]
        var when: Date?
        var id: UUID?
        var nested: Inner?
        var extra: JSONValue?
        var small: UInt8?
        var map: [String: Int]?
        var matrix: [[Int]]?
    }

    /// A decoded value, or the problem detail its error would give.
    enum Outcome: Equatable {
        case value(Sample)
        case failure(String)
    }

    static func foundation(_ text: String) -> Outcome {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = ISO8601.decodingStrategy
        decoder.userInfo[JSONValue.plainObjectsKey] = true
        do { return .value(try decoder.decode(Sample.self, from: Data(text.utf8))) } catch let error as DecodingError {
            return .failure(Problem.describe(error))
        } catch { return .failure("\(error)") }
    }

    static func tree(_ text: String) -> Outcome {
        do { return .value(try JSONValueDecoder.decode(Sample.self, from: try JSONParser.parse(text, plainObjects: true))) } catch let error
            as DecodingError
        { return .failure(Problem.describe(error)) } catch { return .failure("\(error)") }
    }

    @Test(arguments: [
        #"{"name":"a","count":3,"tags":[]}"#,
        #"{"name":"a","count":3.0,"ratio":2,"tags":["x","y"],"when":"2026-12-03T10:00:00.250Z","id":"6F9619FF-8B86-D011-B42D-00CF4FC964FF"}"#,
        #"{"name":"a","count":3,"tags":[],"nested":{"flag":true,"items":[1,2]},"extra":{"k":[1,{"z":null}]},"small":255}"#,
        #"{"name":"a","count":3,"tags":[],"nested":null,"when":null,"map":{"a":1,"b":2},"matrix":[[1],[2,3]]}"#,
        #"{"count":3,"tags":[]}"#,
        #"{"name":"a","count":"3","tags":[]}"#,
        #"{"name":"a","count":null,"tags":[]}"#,
        #"{"name":"a","count":3,"tags":[1]}"#,
        #"{"name":"a","count":3,"tags":{}}"#,
        #"{"name":"a","count":3,"tags":[],"nested":{"flag":true,"items":["x"]}}"#,
        #"{"name":"a","count":3,"tags":[],"nested":{"items":[]}}"#,
        #"{"name":"a","count":3,"tags":[],"nested":[]}"#,
        #"{"name":"a","count":3,"tags":[],"when":"yesterday"}"#,
        #"{"name":"a","count":3,"tags":[],"when":5}"#,
        #"{"name":"a","count":3,"tags":[],"id":"not-a-uuid"}"#,
        #"{"name":"a","count":3,"tags":[],"map":{"a":"x"}}"#,
        #"{"name":"a","count":3,"tags":[],"matrix":[[1],["x"]]}"#,
        #"{"name":true,"count":3,"tags":[]}"#,
        #"{"name":"a","count":3,"tags":null}"#,
        #"[]"#,
    ])
    func decodesAsFoundationDecoded(text: String) {
        #expect(Self.tree(text) == Self.foundation(text), "\(text)")
    }

    /// Where Foundation's answer was wrong or useless, the tree decoder says what is wrong instead.
    @Test(arguments: [
        (#"{"name":"a","count":1.5,"tags":[]}"#, "count: expected an integer."),
        (#"{"name":"a","count":3,"tags":[],"small":300}"#, "small: Number 300 does not fit in UInt8."),
        (#"{"name":"a","count":1e20,"tags":[]}"#, "count: Number 1e+20 does not fit in Int."),
    ])
    func numbersThatDoNotFitNameTheField(text: String, detail: String) {
        #expect(Self.tree(text) == .failure(detail))
    }

    @Test func treeTypesComeBackAsTheyAre() throws {
        let value: JSONValue = ["a": .date(Date(timeIntervalSince1970: 5)), "b": .objectID("0123456789abcdef01234567")]
        #expect(try JSONValueDecoder.decode(JSONValue.self, from: value) == value)
        #expect(try JSONValueDecoder.decode(JSONObject.self, from: value) == value.objectValue)
        let dates = try JSONValueDecoder.decode([String: Date].self, from: ["a": .date(Date(timeIntervalSince1970: 5)), "b": "1970-01-01T00:00:06Z"])
        #expect(dates == ["a": Date(timeIntervalSince1970: 5), "b": Date(timeIntervalSince1970: 6)])
        #expect(try JSONValueDecoder.decode(String.self, from: .objectID("0123456789abcdef01234567")) == "0123456789abcdef01234567")
    }
}
