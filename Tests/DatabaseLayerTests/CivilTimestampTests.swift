import Foundation
import Testing

@testable import DatabaseLayer

/// The hand-written timestamp code must give what the Foundation code it replaced on the hot paths gave, to the bit;
/// these suites hold it to that on random values and on the forms it hands back to Foundation.
@Suite struct CivilTimestampTests {
    static let utc = TimeZone(identifier: "UTC")!
    /// What ISO8601.format and ISO8601.parse used before (and still use outside the covered layout).
    static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: utc)
    static let withoutFraction = Date.ISO8601FormatStyle(timeZone: utc)

    /// Seconds since 1970 in 1583...9999, as whole seconds, whole milliseconds or arbitrary doubles.
    static func randomInstant(_ generator: inout SplitMix64) -> Double {
        let raw = Double.random(in: -12_212_553_600...253_402_300_799, using: &generator)
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: return raw.rounded(.down)
        case 1: return (raw * 1000).rounded() / 1000
        default: return raw
        }
    }

    @Test func formatMatchesFoundation() {
        var generator = SplitMix64(state: 20_261_203)
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSince1970: Self.randomInstant(&generator))
            #expect(ISO8601.format(date) == Self.withFraction.format(date.addingTimeInterval(0.0005)), "\(date.timeIntervalSince1970)")
        }
    }

    @Test func parseMatchesFoundation() throws {
        var generator = SplitMix64(state: 42)
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSince1970: Self.randomInstant(&generator))
            var text = String(Self.withFraction.format(date).prefix(19))
            let digits = Int.random(in: 0...9, using: &generator)
            if digits > 0 {
                text += "." + String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            }
            text += ["Z", "+05:30", "-11:45", "+00:00", "-00:00"][Int.random(in: 0..<5, using: &generator)]
            let expected = try #require((try? Self.withFraction.parse(text)) ?? (try? Self.withoutFraction.parse(text)))
            let fast = try #require(CivilTimestamp.parse(text, separator: 0x54), "\(text)")
            #expect(fast == expected, "\(text): \(fast.timeIntervalSinceReferenceDate) vs \(expected.timeIntervalSinceReferenceDate)")
        }
    }

    @Test func postgresTextMatchesTheOldNormalisation() throws {
        var generator = SplitMix64(state: 7)
        for _ in 0..<5_000 {
            let date = Date(timeIntervalSince1970: Self.randomInstant(&generator))
            let day = String(Self.withFraction.format(date).prefix(19)).replacingOccurrences(of: "T", with: " ")
            let fraction = ["", ".1", ".123", ".678901"][Int.random(in: 0..<4, using: &generator)]
            let offset = ["+00", "-08", "+05:30"][Int.random(in: 0..<3, using: &generator)]
            let text = day + fraction + offset
            // The old path: ISO 8601 with `T` and a full offset, through Foundation.
            var iso = text.replacingOccurrences(of: " ", with: "T")
            if offset.count == 3 { iso += ":00" }
            let expected = try #require(try? Self.withFraction.parse(iso))
            #expect(try #require(Date(postgresText: text)) == expected, "\(text)")
        }
    }

    @Test func postgresParametersMatchTheCalendarFormat() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.utc
        var generator = SplitMix64(state: 99)
        for _ in 0..<5_000 {
            let date = Date(timeIntervalSince1970: Self.randomInstant(&generator))
            let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
            let seconds = Int(floor(micros / 1_000_000))
            let fraction = Int(micros) - seconds * 1_000_000
            let whole = Date(timeIntervalSince1970: TimeInterval(seconds))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: whole)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!,
                fraction)
            #expect(date.postgresText == expected)
        }
    }

    /// Outside the covered layout the answer is still Foundation's, lenient parts included.
    @Test(arguments: [
        "2024-02-30T03:04:05.678Z", "2024-01-02T24:04:05Z", "2024-01-02T03:04:60Z", "2024-1-02T03:04:05.678Z",
        "2024-01-02T03:04:05.678+0530", "2024-01-02T03:04:05.678+05", "0001-01-01T00:00:00.000Z", "1500-06-01T12:00:00Z",
        "2024-01-02T03:04:05.1234567890Z",
    ])
    func otherFormsStillGoToFoundation(text: String) {
        #expect(CivilTimestamp.parse(text, separator: 0x54) == nil)
        let expected = (try? Self.withFraction.parse(text)) ?? (try? Self.withoutFraction.parse(text))
        if let expected {
            #expect(ISO8601.parse(text) == expected)
        }
    }

    @Test(arguments: ["2024-01-02T03:04:05.Z", "2024-01-02 03:04:05.678Z", "2024-01-02t03:04:05.678z", "x"])
    func malformedTextIsRefused(text: String) {
        #expect(CivilTimestamp.parse(text, separator: 0x54) == nil)
        #expect(ISO8601.parse(text) == nil)
    }

    @Test(arguments: ["2024-01-02T03:04:05", "2024-01-02T03:04:05.678+05:3", "2024-01-02T03:04:05.678+05:30:00"])
    func partialLayoutsAreNotTheFastPath(text: String) {
        #expect(CivilTimestamp.parse(text, separator: 0x54) == nil)
    }

    @Test(arguments: [-62_135_596_800.0, -12_300_000_000, 253_402_300_800, 300_000_000_000])
    func datesOutsideTheCoveredYearsFormatAsFoundationDoes(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(CivilTimestamp.formatMilliseconds(date) == nil)
        #expect(ISO8601.format(date) == Self.withFraction.format(date.addingTimeInterval(0.0005)))
    }

    @Test func calendarArithmeticRoundTrips() {
        for days in stride(from: -150_000, through: 2_932_896, by: 997) {
            let civil = CivilTimestamp.civil(days: days)
            #expect(CivilTimestamp.days(year: civil.year, month: civil.month, day: civil.day) == days)
        }
        #expect(CivilTimestamp.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilTimestamp.days(year: 2000, month: 3, day: 1) == 11_017)
    }
}
