import Foundation

/// Fixed-layout UTC timestamps read and written byte by byte, for the hot paths: every date in a response
/// (``ISO8601/format(_:)``), in a request body and in a PostgreSQL row. Foundation's format styles cost
/// several microseconds and a dozen allocations per call (`perf` put PostgreSQL timestamp parsing at 6-7 % of an
/// uncached `GET /users/{id}`, with `String.replacingOccurrences` and `vfscanf` on top).
///
/// Every function answers nil for what it does not cover (years outside 1583...9999, out-of-range fields, other
/// layouts), and the callers then fall back to the Foundation code they used before. Within what it covers the
/// result is the one Foundation gives, to the bit: Foundation's `Date` holds seconds since 2001-01-01, and the
/// arithmetic below is done on that scale, as Foundation does it (checked against Foundation by the unit tests).
/// Years start at 1583 because Foundation's Gregorian calendar is Julian before October 1582.
enum CivilTimestamp {
    /// Seconds from 1970-01-01 to 2001-01-01, Foundation's reference date.
    static let referenceOffset = 978_307_200
    static let years = 1583...9999

    // MARK: - Calendar arithmetic (proleptic Gregorian; H. Hinnant's days-from-civil method, written out here)

    /// Days from 1970-01-01 to the given date.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The number of days in `month` of `year`.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // MARK: - Parsing

    /// Parses `YYYY-MM-DD<separator>HH:MM:SS[.f{1,9}]` followed by `Z` or `±HH:MM` (and, with `hourOffsets`,
    /// PostgreSQL's `±HH`). Nil for anything else, including dates Foundation would roll over (February 30).
    static func parse(_ text: String, separator: UInt8, hourOffsets: Bool = false) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            Self.parse(bytes, separator: separator, hourOffsets: hourOffsets)
        }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, separator: UInt8, hourOffsets: Bool) -> Date? {
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for index in start..<(start + count) {
                let digit = bytes[index] &- 0x30
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard bytes.count >= 20, let year = number(0, 4), bytes[4] == 0x2D, let month = number(5, 2), bytes[7] == 0x2D,
            let day = number(8, 2), bytes[10] == separator, let hour = number(11, 2), bytes[13] == 0x3A,
            let minute = number(14, 2), bytes[16] == 0x3A, let second = number(17, 2),
            Self.years.contains(year), (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var fraction = 0
        var scale = 1
        if bytes[index] == 0x2E {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] &- 0x30 < 10, index - start < 9 {
                fraction = fraction * 10 + Int(bytes[index] &- 0x30)
                scale *= 10
                index += 1
            }
            // No digits, or a tenth one: not this layout.
            guard index > start, index < bytes.count, bytes[index] &- 0x30 >= 10 else { return nil }
        }
        var offset = 0
        switch bytes[index] {
        case 0x5A:  // Z
            guard index + 1 == bytes.count else { return nil }
        case 0x2B, 0x2D:  // + or -
            let sign = bytes[index] == 0x2D ? -1 : 1
            guard let offsetHours = number(index + 1, 2), offsetHours < 24 else { return nil }
            if hourOffsets, index + 3 == bytes.count {
                offset = sign * offsetHours * 3600
            } else {
                guard index + 6 == bytes.count, bytes[index + 3] == 0x3A, let offsetMinutes = number(index + 4, 2), offsetMinutes < 60
                else { return nil }
                offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
            }
        default:
            return nil
        }
        let seconds = Self.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSinceReferenceDate: Double(seconds - Self.referenceOffset) + Double(fraction) / Double(scale))
    }

    // MARK: - Formatting

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, rounded to the nearest millisecond as ``ISO8601/format(_:)`` always has.
    static func formatMilliseconds(_ date: Date) -> String? {
        let reference = date.addingTimeInterval(0.0005).timeIntervalSinceReferenceDate
        guard reference.isFinite, abs(reference) < 1e12 else { return nil }
        let whole = reference.rounded(.down)
        let milliseconds = min(999, Int((reference - whole) * 1000))
        return Self.format(secondsSince1970: Int(whole) + Self.referenceOffset, fraction: milliseconds, digits: 3)
    }

    /// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` for PostgreSQL parameters; `seconds` and `microseconds` as
    /// ``PostgresTimestamp/format(_:)`` splits them.
    static func formatMicroseconds(seconds: Int, microseconds: Int) -> String? {
        Self.format(secondsSince1970: seconds, fraction: microseconds, digits: 6)
    }

    private static func format(secondsSince1970 seconds: Int, fraction: Int, digits: Int) -> String? {
        guard (0..<1_000_000).contains(fraction) else { return nil }
        let secondOfDay = ((seconds % 86_400) + 86_400) % 86_400
        let date = Self.civil(days: (seconds - secondOfDay) / 86_400)
        guard Self.years.contains(date.year) else { return nil }
        return String(unsafeUninitializedCapacity: 21 + digits) { buffer in
            func put(_ value: Int, at start: Int, width: Int) {
                var rest = value
                for index in stride(from: start + width - 1, through: start, by: -1) {
                    buffer[index] = UInt8(0x30 + rest % 10)
                    rest /= 10
                }
            }
            put(date.year, at: 0, width: 4)
            buffer[4] = 0x2D
            put(date.month, at: 5, width: 2)
            buffer[7] = 0x2D
            put(date.day, at: 8, width: 2)
            buffer[10] = 0x54  // T
            put(secondOfDay / 3600, at: 11, width: 2)
            buffer[13] = 0x3A
            put(secondOfDay / 60 % 60, at: 14, width: 2)
            buffer[16] = 0x3A
            put(secondOfDay % 60, at: 17, width: 2)
            buffer[19] = 0x2E
            put(fraction, at: 20, width: digits)
            buffer[20 + digits] = 0x5A  // Z
            return 21 + digits
        }
    }
}
