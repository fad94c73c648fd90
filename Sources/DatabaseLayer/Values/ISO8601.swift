public import Foundation

/// ISO 8601 formatting and parsing for timestamps in JSON (UTC, millisecond precision).
public enum ISO8601 {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
    private static let withoutFraction = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!)

    /// `2024-01-02T03:04:05.678Z`, rounded to the nearest millisecond (the formatter truncates, and a millisecond
    /// value read back as a binary fraction can sit a hair below itself).
    public static func format(_ date: Date) -> String {
        CivilTimestamp.formatMilliseconds(date) ?? withFraction.format(date.addingTimeInterval(0.0005))
    }

    /// Parses an ISO 8601 timestamp with or without fractional seconds and with `Z` or an offset; nil when invalid.
    public static func parse(_ text: String) -> Date? {
        // The layout services write and clients send, by hand; Foundation for every other form it accepts.
        if let date = CivilTimestamp.parse(text, separator: 0x54) { return date }
        // TEST-SERVER WORKAROUND (nx-27017 0.8.1): it stores a date written by an update operator as
        // `2024-01-02 03:04:05.678000` (UTC, no zone). Real MongoDB and SecantusDB never produce this form; it is
        // read back as the date it was so documents the stand-in touched stay decodable. Remove with nx-27017.
        if text.utf8.count >= 19, !text.contains("T"), !text.hasSuffix("Z"), text.dropFirst(10).first == " " {
            return parse(text.replacingOccurrences(of: " ", with: "T") + "Z")
        }
        if let date = try? withFraction.parse(text) { return date }
        if let date = try? withoutFraction.parse(text) { return date }
        // Fractions beyond milliseconds (PostgreSQL prints microseconds): drop the extra digits and retry.
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !($0.isNumber || $0 == ".") }) {
            let digits = text[text.index(after: dot)..<end]
            if digits.count > 3 {
                let trimmed = String(text[..<text.index(dot, offsetBy: 4)]) + text[end...]
                return try? withFraction.parse(trimmed)
            }
        }
        return nil
    }

    /// A JSONEncoder date strategy writing ISO 8601 with milliseconds.
    public static let encodingStrategy: JSONEncoder.DateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(format(date))
    }

    /// A JSONDecoder date strategy accepting ISO 8601 with or without fractional seconds.
    public static let decodingStrategy: JSONDecoder.DateDecodingStrategy = .custom { decoder in
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO 8601 timestamp")
        }
        return date
    }
}
