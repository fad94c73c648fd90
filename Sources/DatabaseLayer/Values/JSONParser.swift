public import NIOCore

/// Why JSON text could not be parsed, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the problem in the input.
    public var offset: Int
    /// What was wrong, for a client (never the input's content).
    public var reason: String

    /// A sentence for a problem detail: `"expected ':' after an object key at byte 12"`.
    public var description: String { "\(self.reason) at byte \(self.offset)" }
}

/// Parses JSON text (RFC 8259) straight into a ``JSONValue``, in one pass over the bytes.
///
/// It replaces Foundation's `JSONDecoder` for request bodies and stored JSON, which went bytes → Foundation's own
/// tree → `JSONValue` through `try?` probes of every container (each failed probe allocates an error).
/// Numbers are classified as Foundation classified them, so stored documents keep their BSON types: an integral
/// value that fits `Int64` (`3`, `3.0`, `3e2`) is `.int`, anything else `.double`. Unlike Foundation's
/// decoder, it refuses trailing commas and a key repeated in one object (RFC 8259 leaves the meaning of a
/// repeated key open; a database service should not guess which one the client meant), and keeps keys in the
/// order they were sent.
public enum JSONParser {
    /// Deepest nesting accepted: Foundation's limit, so a hostile body cannot exhaust the stack.
    public static let maximumDepth = 512

    /// Parses `bytes`; with `plainObjects`, `{"$date": …}` and `{"$oid": …}` stay objects (request bodies).
    public static func parse(_ bytes: UnsafeRawBufferPointer, plainObjects: Bool = false) throws(JSONParseError) -> JSONValue {
        var reader = Reader(bytes: bytes, plainObjects: plainObjects)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw reader.error("unexpected text after the JSON value") }
        return value
    }

    /// Parses the readable bytes of `buffer`.
    public static func parse(_ buffer: ByteBuffer, plainObjects: Bool = false) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = buffer.withUnsafeReadableBytes { bytes in
            do throws(JSONParseError) { return .success(try Self.parse(bytes, plainObjects: plainObjects)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses `text`.
    public static func parse(_ text: String, plainObjects: Bool = false) throws(JSONParseError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { utf8 in
            do throws(JSONParseError) {
                return .success(try Self.parse(UnsafeRawBufferPointer(utf8), plainObjects: plainObjects))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

private enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}

/// The cursor over the input; every method leaves `index` just past what it consumed.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    let plainObjects: Bool
    var index = 0

    init(bytes: UnsafeRawBufferPointer, plainObjects: Bool) {
        self.bytes = bytes
        self.plainObjects = plainObjects
    }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: self.index, reason: reason) }

    var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let byte = self.current else { throw self.error("unexpected end of the JSON text") }
        switch byte {
        case ASCII.openBrace: return try self.object(depth: depth + 1)
        case ASCII.openBracket: return try self.array(depth: depth + 1)
        case ASCII.quote: return .string(try self.string())
        case ASCII.minus, ASCII.zero...ASCII.nine: return try self.number()
        case UInt8(ascii: "t"): try self.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.literal("null"); return .null
        default: throw self.error("expected a JSON value")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard self.bytes.count - self.index >= count else { throw self.error("expected a JSON value") }
        let start = word.utf8Start
        for offset in 0..<count where self.bytes[self.index + offset] != start[offset] { throw self.error("expected a JSON value") }
        self.index += count
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONParser.maximumDepth else { throw self.error("nested deeper than \(JSONParser.maximumDepth) levels") }
        self.index += 1
        var members: [(key: String, value: JSONValue)] = []
        self.skipWhitespace()
        if self.current == ASCII.closeBrace {
            self.index += 1
            return .object(JSONObject(members: members))
        }
        var seen: Set<String>? = nil
        while true {
            guard self.current == ASCII.quote else { throw self.error("expected a quoted object key") }
            let keyOffset = self.index
            let key = try self.string()
            // Small objects are checked by scanning; a set only pays off on large ones.
            if members.count >= 16 {
                if seen == nil { seen = Set(members.lazy.map(\.key)) }
                guard seen!.insert(key).inserted else { throw JSONParseError(offset: keyOffset, reason: "a key appears twice in one object") }
            } else if members.contains(where: { $0.key == key }) {
                throw JSONParseError(offset: keyOffset, reason: "a key appears twice in one object")
            }
            self.skipWhitespace()
            guard self.current == ASCII.colon else { throw self.error("expected ':' after an object key") }
            self.index += 1
            self.skipWhitespace()
            members.append((key: key, value: try self.value(depth: depth)))
            self.skipWhitespace()
            switch self.current {
            case ASCII.comma:
                self.index += 1
                self.skipWhitespace()
            case ASCII.closeBrace:
                self.index += 1
                let object = JSONObject(members: members)
                if !self.plainObjects, object.count == 1, let extended = JSONValue.extendedJSON(object) { return extended }
                return .object(object)
            default:
                throw self.error("expected ',' or '}' in an object")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONParser.maximumDepth else { throw self.error("nested deeper than \(JSONParser.maximumDepth) levels") }
        self.index += 1
        var values: [JSONValue] = []
        self.skipWhitespace()
        if self.current == ASCII.closeBracket {
            self.index += 1
            return .array(values)
        }
        while true {
            values.append(try self.value(depth: depth))
            self.skipWhitespace()
            switch self.current {
            case ASCII.comma:
                self.index += 1
                self.skipWhitespace()
            case ASCII.closeBracket:
                self.index += 1
                return .array(values)
            default:
                throw self.error("expected ',' or ']' in an array")
            }
        }
    }

    /// A string starting at the opening quote. Runs without escapes are copied as they are; the result is
    /// checked to be valid UTF-8, as Foundation checked it.
    mutating func string() throws(JSONParseError) -> String {
        self.index += 1
        let start = self.index
        var ascii = true
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == ASCII.quote {
                let run = UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index])
                self.index += 1
                if ascii { return String(decoding: run, as: UTF8.self) }
                guard let text = String(validating: run, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "a string is not valid UTF-8")
                }
                return text
            }
            if byte == ASCII.backslash { return try self.escapedString(from: start) }
            if byte < 0x20 { throw self.error("a control character must be escaped in a string") }
            if byte >= 0x80 { ascii = false }
            self.index += 1
        }
        throw self.error("unterminated string")
    }

    /// The slow path of ``string()``: the run before the first escape is copied, then bytes are decoded one by one.
    mutating func escapedString(from start: Int) throws(JSONParseError) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(self.index - start + 16)
        output.append(contentsOf: self.bytes[start..<self.index])
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            switch byte {
            case ASCII.quote:
                self.index += 1
                guard let text = String(validating: output, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "a string is not valid UTF-8")
                }
                return text
            case ASCII.backslash:
                self.index += 1
                guard let escape = self.current else { throw self.error("unterminated string") }
                self.index += 1
                switch escape {
                case ASCII.quote, ASCII.backslash, UInt8(ascii: "/"): output.append(escape)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"): try self.unicodeEscape(into: &output)
                default:
                    self.index -= 1
                    throw self.error("unknown escape in a string")
                }
            case 0..<0x20:
                throw self.error("a control character must be escaped in a string")
            default:
                output.append(byte)
                self.index += 1
            }
        }
        throw self.error("unterminated string")
    }

    /// `\uXXXX` after the `u`, with a following `\uXXXX` low surrogate when the first is a high one.
    mutating func unicodeEscape(into output: inout [UInt8]) throws(JSONParseError) {
        let first = try self.hex4()
        var scalarValue = UInt32(first)
        if (0xD800..<0xDC00).contains(first) {
            guard self.bytes.count - self.index >= 6, self.bytes[self.index] == ASCII.backslash,
                self.bytes[self.index + 1] == UInt8(ascii: "u")
            else { throw self.error("a high surrogate escape must be followed by a low one") }
            self.index += 2
            let second = try self.hex4()
            guard (0xDC00..<0xE000).contains(second) else { throw self.error("a high surrogate escape must be followed by a low one") }
            scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
        } else if (0xDC00..<0xE000).contains(first) {
            throw self.error("a low surrogate escape without a high one")
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw self.error("an escape that is not a Unicode scalar") }
        output.append(contentsOf: UTF8.encode(scalar)!)
    }

    mutating func hex4() throws(JSONParseError) -> UInt16 {
        guard self.bytes.count - self.index >= 4 else { throw self.error("expected four hex digits after \\u") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = ASCIIHex.value(self.bytes[self.index]) else { throw self.error("expected four hex digits after \\u") }
            value = value << 4 | UInt16(digit)
            self.index += 1
        }
        return value
    }

    /// A number in RFC 8259's grammar, classified as Foundation's decoding into `Int64` and then `Double` did:
    /// `.int` when the decimal value is exactly an integer that fits `Int64` (`3`, `3.0`, `1.5e3`), or when it
    /// rounds to an integral double of at most 2^53 (`4503599627370496.5`); otherwise `.double`, correctly rounded.
    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = self.index
        let negative = self.current == ASCII.minus
        if negative { self.index += 1 }
        guard let first = self.current, (ASCII.zero...ASCII.nine).contains(first) else { throw self.error("expected a digit") }
        // All digits, integer and fraction, as one integer; `scale` is the power of ten it is multiplied by.
        var mantissa: UInt64 = 0
        var overflow = false
        var scale = 0
        if first == ASCII.zero {
            self.index += 1
        } else {
            self.accumulate(&mantissa, overflow: &overflow, scale: nil)
        }
        var plain = true
        if self.current == ASCII.dot {
            plain = false
            self.index += 1
            let before = self.index
            self.accumulate(&mantissa, overflow: &overflow, scale: &scale)
            guard self.index > before else { throw self.error("expected a digit after '.'") }
        }
        if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
            plain = false
            self.index += 1
            let exponentNegative = self.current == ASCII.minus
            if self.current == ASCII.plus || exponentNegative { self.index += 1 }
            var exponent = 0
            let before = self.index
            while let byte = self.current, (ASCII.zero...ASCII.nine).contains(byte) {
                exponent = min(exponent * 10 + Int(byte - ASCII.zero), 100_000)
                self.index += 1
            }
            guard self.index > before else { throw self.error("expected a digit in an exponent") }
            scale += exponentNegative ? -exponent : exponent
        }
        if let byte = self.current, (ASCII.zero...ASCII.nine).contains(byte) {
            throw self.error("a number may not have a leading zero")
        }
        if !overflow, let exact = Self.exactInteger(mantissa, scale: scale, negative: negative) { return .int(exact) }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw JSONParseError(offset: start, reason: "a number is out of range")
        }
        if !plain, double.rounded(.towardZero) == double, double.magnitude <= 9_007_199_254_740_992 { return .int(Int64(double)) }
        return .double(double)
    }

    /// Adds the digits at the cursor to `mantissa`; with `scale`, each digit also lowers it by one (fraction digits).
    mutating func accumulate(_ mantissa: inout UInt64, overflow: inout Bool, scale: UnsafeMutablePointer<Int>?) {
        while let byte = self.current, (ASCII.zero...ASCII.nine).contains(byte) {
            let (times10, o1) = mantissa.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - ASCII.zero))
            overflow = overflow || o1 || o2
            mantissa = sum
            scale?.pointee -= 1
            self.index += 1
        }
    }

    /// `mantissa × 10^scale` with its sign, when that is an integer that fits `Int64`.
    static func exactInteger(_ mantissa: UInt64, scale: Int, negative: Bool) -> Int64? {
        var value = mantissa
        var scale = scale
        while scale < 0 {
            guard value % 10 == 0 else { return nil }
            value /= 10
            scale += 1
        }
        while scale > 0 && value != 0 {
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = times10
            scale -= 1
        }
        if negative { return value <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- value) : nil }
        return value <= UInt64(Int64.max) ? Int64(value) : nil
    }
}
