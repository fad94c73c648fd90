import Foundation
import Testing

@testable import DatabaseLayer

/// `UUID.lowercasedText` and `UUID(text:)` replace Foundation's snprintf and sscanf on the request path: the same
/// text for every UUID, the same UUID for every canonical text, and none of sscanf's extra forms.
@Suite struct UUIDTextTests {
    @Test func textMatchesFoundation() {
        for _ in 0..<10_000 {
            let uuid = UUID()
            #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
            #expect(UUID(text: uuid.uuidString) == uuid)
            #expect(UUID(text: uuid.lowercasedText) == uuid)
        }
        let edges = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                     UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))]
        for uuid in edges {
            #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
            #expect(UUID(text: uuid.lowercasedText) == uuid)
        }
    }

    @Test func mixedCaseIsAccepted() {
        #expect(UUID(text: "0123ABCD-ef01-4567-89aB-CDEF01234567")?.lowercasedText == "0123abcd-ef01-4567-89ab-cdef01234567")
    }

    /// The first four Foundation accepts, each as some other id than the text says.
    @Test(arguments: [
        "+2345678-1234-1234-1234-123456789abc", " 2345678-1234-1234-1234-123456789abc",
        "-1345678-1234-1234-1234-123456789abc", "0x345678-1234-1234-1234-123456789abc",
        "1234567g-1234-1234-1234-123456789abc", "12345678-1234-1234-1234-123456789abcd",
        "12345678-1234-1234-1234-123456789ab", "12345678 1234-1234-1234-123456789abc",
        "123456781-234-1234-1234-123456789abc", "12345678123412341234123456789abc", "",
        "12345678-1234-1234-1234-123456789ab\u{E9}",
    ])
    func nonCanonicalTextIsRefused(_ text: String) {
        #expect(UUID(text: text) == nil)
    }
}
