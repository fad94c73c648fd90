import Foundation
import HTTPTypes
public import Hummingbird
import Logging

/// Outermost middleware: assigns the request id, puts it on every log line and the response, logs the outcome.
///
/// The id comes from `X-Request-ID` when it is short and plain, else from a W3C `traceparent` trace id, else a new UUID.
public struct RequestLoggingMiddleware: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Handles one request.
    public func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(from: request)
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // ProblemMiddleware sits inside this one; anything reaching here escaped it, so convert it here too.
            let (problem, retryAfter, _) = Problem.from(error)
            response = problem.response(retryAfter: retryAfter)
        }
        response.headers[Self.requestIDHeader] = context.requestID
        // The line's metadata is only built when it will be written (a benchmark or a quiet production runs at warning).
        guard context.logger.logLevel <= .info else { return response }
        let milliseconds = (ContinuousClock.now - start).seconds * 1000
        // Inner layers (the tenant) log through their own copies of the context; what they want on this line they
        // put in the shared requestLog box.
        var metadata = context.requestLog.metadata
        metadata["method"] = .string(request.method.rawValue)
        metadata["path"] = .string(request.uri.path)
        metadata["status"] = .stringConvertible(response.status.code)
        metadata["duration_ms"] = .string(Self.twoDecimals(milliseconds))
        context.logger.info("request", metadata: metadata)
        return response
    }

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!
    static let traceparentHeader = HTTPField.Name("traceparent")!

    /// `12.35` for 12.345…: what `String(format: "%.2f")` wrote, without Foundation's formatter on every request.
    static func twoDecimals(_ value: Double) -> String {
        guard value.isFinite, value >= 0, value < 1e15 else { return String(value) }
        let hundredths = Int64((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func requestID(from request: Request) -> String {
        if let given = request.headers[Self.requestIDHeader], (1...128).contains(given.utf8.count), given.utf8.allSatisfy(Self.isPlainIDByte) {
            return given
        }
        // traceparent: version-traceid-parentid-flags; the 32-hex trace id ties our logs to the caller's trace.
        if let traceparent = request.headers[Self.traceparentHeader] {
            let parts = traceparent.split(separator: "-")
            if parts.count == 4, parts[1].utf8.count == 32, parts[1].allSatisfy(\.isHexDigit), parts[1] != String(repeating: "0", count: 32) {
                return String(parts[1])
            }
        }
        return UUID().lowercasedText
    }

    /// ASCII letters, digits, `-`, `_` and `.`: an id that cannot break a log line or a header.
    private static func isPlainIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): true
        default: false
        }
    }
}
