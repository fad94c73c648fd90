import Foundation
public import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem: the body of every error response, served as `application/problem+json`.
public struct Problem: Codable, Sendable, Equatable {
    /// A URI naming the problem type (`urn:prismicx:problem:<code>`).
    public var type: String
    /// Short summary of the type.
    public var title: String
    /// HTTP status code.
    public var status: Int
    /// What went wrong in this occurrence, safe for clients.
    public var detail: String
    /// Stable machine-readable code (`invalid_input`, `conflict`, …).
    public var code: String
    /// The request path.
    public var instance: String?
    /// The request id, to find the matching log lines.
    public var requestID: String?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, code, instance
        case requestID = "request_id"
    }

    /// Creates a problem; `type` is derived from `code`.
    public init(status: HTTPResponse.Status, code: String, detail: String, instance: String? = nil, requestID: String? = nil) {
        self.type = "urn:prismicx:problem:\(code)"
        self.title = status.reasonPhrase
        self.status = status.code
        self.detail = detail
        self.code = code
        self.instance = instance
        self.requestID = requestID
    }
}

extension Problem {
    /// The problem as a response.
    func response(retryAfter: Int?) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(self)) ?? Data(#"{"status":500}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: HTTPResponse.Status(code: self.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
