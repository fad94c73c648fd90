public import HTTPTypes

/// An error raised by request handling, with the status and stable code it maps to.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Response status.
    public var status: HTTPResponse.Status
    /// Stable code.
    public var code: String
    /// Client-safe explanation.
    public var detail: String
    /// Seconds for `Retry-After` (429/503).
    public var retryAfter: Int?

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, detail: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.retryAfter = retryAfter
    }

    /// 400 with a code naming the kind of bad input.
    public static func badRequest(_ detail: String, code: String = "invalid_input") -> APIError { APIError(.badRequest, code: code, detail: detail) }
    /// 404.
    public static func notFound(_ detail: String) -> APIError { APIError(.notFound, code: "not_found", detail: detail) }
    /// 409.
    public static func conflict(_ detail: String) -> APIError { APIError(.conflict, code: "conflict", detail: detail) }
    /// 401.
    public static func unauthorized(_ detail: String) -> APIError { APIError(.unauthorized, code: "unauthorized", detail: detail) }

    /// The status and code.
    public var description: String { "APIError(\(self.status.code) \(self.code)): \(self.detail)" }
}
