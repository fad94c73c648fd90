import Foundation
public import Hummingbird
import Logging
import NIOCore

/// The request context of every service: Hummingbird's core storage plus the request id and the validated tenant.
public struct ServiceRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The request id (from `X-Request-ID`, the `traceparent` trace id, or generated).
    public var requestID: String = ""
    /// The tenant from `X-Tenant-ID` or the user token's `tenant_id`, validated; nil when neither was sent.
    public var tenant: TenantID?
    /// Who is calling; nil only on health and metrics, which need no credentials.
    public var caller: Caller?
    /// Metadata for the request log line, shared by every copy of this context (see ``RequestLogMetadata``).
    public let requestLog = RequestLogMetadata()
    /// The peer's IP address (the proxy's, behind one), for per-client limits; nil over a Unix socket or in tests.
    public let remoteAddress: String?

    /// Creates the context for a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are collected by ``BodyLimitMiddleware`` with the configured limit; this is only the backstop.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }

    /// JSON decoding whose failures become 400 problems naming the field.
    public var requestDecoder: ServiceRequestDecoder { ServiceRequestDecoder() }

    /// JSON encoding in one pass into the body, with ISO 8601 dates (``JSONResponseEncoder``).
    public var responseEncoder: JSONResponseEncoder { JSONResponseEncoder() }

    /// Nothing, or a 403 problem when the caller is a user: for endpoints only other services may call.
    public func requireServiceCaller() throws {
        guard self.caller == .service else {
            throw APIError(
                .forbidden, code: "service_caller_required", detail: "This endpoint is for service callers (X-API-Key); a user token cannot use it.")
        }
    }

    /// The tenant, or a 400 problem when `X-Tenant-ID` was not sent.
    public func requireTenant() throws -> TenantID {
        guard let tenant = self.tenant else {
            throw APIError(.badRequest, code: "tenant_required", detail: "This endpoint needs the X-Tenant-ID header.")
        }
        return tenant
    }
}

/// Decodes JSON request bodies; a malformed body or a wrong type is a 400 problem, never a 500.
public struct ServiceRequestDecoder: RequestDecoder {
    /// Creates the decoder.
    public init() {}

    /// Decodes `type` from the request body, after checking it is JSON.
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        if let contentType = request.headers[.contentType], !contentType.lowercased().contains("json") {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", detail: "Send the body as application/json.")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("The request body is empty.", code: "invalid_body") }
        // One parse into a tree (objects kept plain: a client's `$date` key must reach JSONBodyRules, which
        // refuses it, instead of turning into a stored date), then the typed value is read from that tree.
        let value: JSONValue
        do {
            value = try JSONParser.parse(buffer, plainObjects: true)
        } catch {
            throw APIError.badRequest("The body is not valid JSON: \(error).", code: "invalid_body")
        }
        do {
            return try JSONValueDecoder.decode(T.self, from: value)
        } catch let error as DecodingError {
            throw APIError.badRequest(Problem.describe(error), code: "invalid_body")
        }
    }
}
