public import Hummingbird

/// An error that knows how it reads as an RFC 9457 problem: status, stable code and a client-safe detail.
///
/// A service's domain error stays free of HTTP; its `+HTTPResponseError.swift` file conforms it to this protocol
/// (the pattern of Hummingbird's `NIOCore+HTTPResponseError.swift`). ``ProblemMiddleware`` renders every
/// `ProblemError` the same way, with the request id and path added.
public protocol ProblemError: HTTPResponseError {
    /// The stable machine-readable code (`not_found`, `lease_lost`, …).
    var problemCode: String { get }
    /// What went wrong in this occurrence; shown to the client, so never server text or secrets.
    var problemDetail: String { get }
    /// Seconds for `Retry-After`, for 429 and 503.
    var retryAfterSeconds: Int? { get }
}

extension ProblemError {
    /// No `Retry-After` unless the error says otherwise.
    public var retryAfterSeconds: Int? { nil }

    /// The bare problem response, for the rare path that renders an error outside ``ProblemMiddleware``.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var problem = Problem(status: self.status, code: self.problemCode, detail: self.problemDetail)
        problem.instance = request.uri.path
        return problem.response(retryAfter: self.retryAfterSeconds)
    }
}

extension APIError: ProblemError {
    /// ``code``.
    public var problemCode: String { self.code }
    /// ``detail``.
    public var problemDetail: String { self.detail }
    /// ``retryAfter``.
    public var retryAfterSeconds: Int? { self.retryAfter }
}
