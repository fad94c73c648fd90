import Foundation

/// A client-supplied time (`run_after`), read from exactly the strings the OpenAPI description's `RunAfter`
/// schema admits: an RFC 3339 date-time (`format: date-time`) that also matches its `pattern`.
///
/// That is: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1-9 digits, then `Z` or `±HH:MM`; upper-case `T`
/// and `Z`; a real calendar day; years 1970-2999 (a queue time before the epoch or a millennium away is a
/// mistake, and every such time stays a valid BSON date and an RFC 3339 string in UTC); seconds 00-59 (no
/// leap second); offsets of at most ±18:00. Anything else is refused, so the description and the service
/// agree on every string instead of leaving the edges to a date parser's leniency. The parse is done here,
/// on the proleptic Gregorian calendar, so it does not depend on Foundation's calendar or offset limits.
struct TaskTimestamp: Decodable, Sendable, Equatable {
    /// The instant.
    var date: Date

    /// Wraps an instant.
    init(_ date: Date) { self.date = date }

    /// Decodes a string of the accepted form; anything else is a `dataCorrupted` error (`400 invalid_body`).
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let date = Self.parse(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected an RFC 3339 date-time such as 2025-06-01T12:00:00Z (years 1970-2999).")
        }
        self.date = date
    }

    /// Accepted years.
    static let years = 1970...2999
    /// Largest offset from UTC, in minutes (±18:00).
    static let maximumOffsetMinutes = 18 * 60

    /// The instant `text` denotes, or nil when it is not of the accepted form.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + length] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, is character: Unicode.Scalar) -> Bool { index < bytes.count && bytes[index] == UInt8(ascii: character) }

        guard let year = number(0, 4), byte(4, is: "-"), let month = number(5, 2), byte(7, is: "-"), let day = number(8, 2),
            byte(10, is: "T"), let hour = number(11, 2), byte(13, is: ":"), let minute = number(14, 2), byte(16, is: ":"),
            let second = number(17, 2),
            Self.years.contains(year), (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var index = 19
        var fraction = 0.0
        if byte(index, is: ".") {
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
            guard (1...9).contains(end - start), let digits = number(start, end - start) else { return nil }
            fraction = Double(digits) / pow(10, Double(end - start))
            index = end
        }

        var offsetMinutes = 0
        if byte(index, is: "Z") {
            index += 1
        } else if byte(index, is: "+") || byte(index, is: "-") {
            guard let offsetHour = number(index + 1, 2), byte(index + 3, is: ":"), let offsetMinute = number(index + 4, 2), offsetMinute < 60
            else { return nil }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (byte(index, is: "-") ? -1 : 1)
            guard abs(offsetMinutes) <= Self.maximumOffsetMinutes else { return nil }
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }

        let seconds = Self.daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second - offsetMinutes * 60
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a civil date (Howard Hinnant's `days_from_civil`, proleptic Gregorian).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
