import Crypto
import Foundation

/// An opaque refresh token: `rt_` and 32 random bytes in base64url. Only its SHA-256 is stored, so a copy of
/// `refresh_tokens` cannot be replayed; a fast hash is enough because the token has 256 bits of entropy.
struct RefreshToken: Sendable {
    /// What the client gets.
    let value: String

    /// The stored form: 64 lowercase hex digits.
    var hash: String { Self.hash(of: self.value) }

    /// A new random token.
    static func generate() -> RefreshToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return RefreshToken(value: "rt_" + text)
    }

    /// The hash of a presented token, or nil when it is not of the shape ``generate()`` makes (no lookup then).
    static func presentedHash(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard bytes.count == 46, value.hasPrefix("rt_"),
            bytes.dropFirst(3).allSatisfy({ byte in
                (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
            })
        else { return nil }
        return Self.hash(of: value)
    }

    private static func hash(of value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
