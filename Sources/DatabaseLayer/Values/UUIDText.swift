public import Foundation

// Foundation writes a UUID with snprintf and reads one with sscanf, whose `%2hhx` also takes a sign, a space or
// `0x` inside a group: `UUID(uuidString: "-1345678-…")` is ff345678-…, a different id than the client sent. Ids
// in paths, tokens and cursors go through these instead: exactly 8-4-4-4-12 hex digits, and no libc formatting
// on the request path (it showed in the GET profile, docs/performance.md).

extension UUID {
    /// The canonical lowercase text form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    public var lowercasedText: String {
        withUnsafeBytes(of: self.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { output in
                var index = 0
                for (position, byte) in bytes.enumerated() {
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        output[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    output[index] = ASCIIHex.digit(byte >> 4)
                    output[index + 1] = ASCIIHex.digit(byte & 0x0F)
                    index += 2
                }
                return index
            }
        }
    }

    /// Parses exactly the 36-character 8-4-4-4-12 form, hex digits of either case; nil for anything else.
    public init?(text: String) {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &value) { output in
            text.utf8.withContiguousStorageIfAvailable { UUIDText.parse($0, into: output) }
                ?? UUIDText.parse(Array(text.utf8), into: output)
        }
        guard parsed else { return nil }
        self.init(uuid: value)
    }
}

/// The byte-level half of `UUID(text:)`.
private enum UUIDText {
    /// Fills `output` (16 bytes) from `text`; false unless `text` is the canonical form.
    static func parse(_ text: some Collection<UInt8>, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard text.count == 36 else { return false }
        var iterator = text.makeIterator()
        for position in 0..<16 {
            if position == 4 || position == 6 || position == 8 || position == 10 {
                guard iterator.next() == UInt8(ascii: "-") else { return false }
            }
            guard let high = iterator.next().flatMap(ASCIIHex.value), let low = iterator.next().flatMap(ASCIIHex.value) else { return false }
            output[position] = high << 4 | low
        }
        return true
    }
}
