public import Hummingbird
import HTTPTypes

extension Request {
    /// The address per-client limits count against: the first `X-Forwarded-For` hop when a service caller (a
    /// gateway, trusted by its API key) forwards the request, since the peer is then the gateway; otherwise the
    /// peer. Anything that is not a plain IP literal reads as `unknown`, so a header cannot shape a Redis key.
    public func clientAddress(context: ServiceRequestContext) -> String {
        if context.caller == .service, let forwarded = self.headers[.xForwardedFor] {
            let first = forwarded.split(separator: ",", maxSplits: 1).first.map { String($0).trimmed } ?? ""
            return Self.isAddress(first) ? first.lowercased() : "unknown"
        }
        return context.remoteAddress.flatMap { Self.isAddress($0) ? $0 : nil } ?? "unknown"
    }

    /// Digits, hex letters, `.` and `:` only, as IPv4 and IPv6 literals are written.
    static func isAddress(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 45
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte) || byte == 0x2E || byte == 0x3A
            }
    }
}

extension HTTPField.Name {
    /// `X-Forwarded-For`.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

extension String {
    /// Without leading and trailing spaces and tabs (no Foundation on this path).
    fileprivate var trimmed: String {
        let bytes = Array(self.utf8)
        guard let start = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
            let end = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return "" }
        return String(decoding: bytes[start...end], as: UTF8.self)
    }
}
