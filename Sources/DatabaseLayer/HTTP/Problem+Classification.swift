import Foundation
import HTTPTypes
import Hummingbird

extension Problem {
    /// Classifies any error thrown by a handler or middleware. `internal` is true when the error is unexpected
    /// (500) and must be logged in full; the client sees only a generic detail.
    static func from(_ error: any Error) -> (problem: Problem, retryAfter: Int?, isInternal: Bool) {
        switch error {
        case let error as any ProblemError:
            let problem = Problem(status: error.status, code: error.problemCode, detail: error.problemDetail)
            return (problem, error.retryAfterSeconds, error.status.code >= 500 && error.status != .serviceUnavailable)
        case let error as DatabaseError:
            let status: HTTPResponse.Status =
                switch error.code {
                case .notFound: .notFound
                case .conflict: .conflict
                case .invalidInput: .badRequest
                case .unavailable: .serviceUnavailable
                case .timeout: .gatewayTimeout
                case .internalError: .internalServerError
                }
            let retry = error.code == .unavailable ? 5 : nil
            return (Problem(status: status, code: error.code.rawValue, detail: error.message), retry, error.code == .internalError)
        case let error as DecodingError:
            return (Problem(status: .badRequest, code: "invalid_body", detail: Self.describe(error)), nil, false)
        case let error as HTTPError:
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .contentTooLarge: "payload_too_large"
                case .methodNotAllowed: "method_not_allowed"
                case .unauthorized: "unauthorized"
                case .unsupportedMediaType: "unsupported_media_type"
                default: error.status.code >= 500 ? "internal_error" : "bad_request"
                }
            let detail: String =
                switch error.status {
                case .notFound: "No route matches this method and path."
                case .contentTooLarge: "The request body is larger than the service accepts."
                default: error.body ?? error.status.reasonPhrase
                }
            return (Problem(status: error.status, code: code, detail: detail), nil, error.status.code >= 500)
        default:
            return (Problem(status: .internalServerError, code: "internal_error", detail: "An unexpected error occurred."), nil, true)
        }
    }

    /// A client-facing description of a decoding failure: which field, and what was wrong, without echoing values.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let components = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return components.isEmpty ? "body" : components.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(Self.jsonTypeName(type))."
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(Self.jsonTypeName(type)), got null."
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return parent == "body" ? "\(key.stringValue): required field is missing." : "\(parent).\(key.stringValue): required field is missing."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The body is not valid JSON." }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "The body could not be decoded."
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array")
                ? "an array" : (String(describing: type).hasPrefix("Dictionary") ? "an object" : "a value of another type")
        }
    }
}
