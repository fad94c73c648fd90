import DatabaseLayer
import HTTPTypes
import Hummingbird

/// How tenant errors read over HTTP: the one place in this service that knows status codes, `Retry-After` and the
/// paths that finish an interrupted operation (the pattern of Hummingbird's `NIOCore+HTTPResponseError.swift`).
extension TenantError: ProblemError {
    /// Seconds a client should wait before finishing an operation that failed on an unreachable store.
    static let unavailableRetryAfterSeconds = 5

    /// 404, 409, or for a failed operation the status of its cause: 503 unreachable, 504 timeout, 409 conflict, else 500.
    var status: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .conflict, .invalidState: .conflict
        case .provisioningFailed(let failure, _), .deletionFailed(let failure, _):
            switch failure.code {
            case DatabaseError.Code.unavailable.rawValue: .serviceUnavailable
            case DatabaseError.Code.timeout.rawValue: .gatewayTimeout
            case DatabaseError.Code.conflict.rawValue: .conflict
            default: .internalServerError
            }
        }
    }

    /// `not_found`, `conflict`, `invalid_state`, `provisioning_failed`, `deletion_failed`.
    var problemCode: String {
        switch self {
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .invalidState: "invalid_state"
        case .provisioningFailed: "provisioning_failed"
        case .deletionFailed: "deletion_failed"
        }
    }

    /// The client-safe detail; a failed operation names the step and the request that finishes it.
    var problemDetail: String {
        switch self {
        case .notFound(let id): "Tenant \(id) does not exist."
        case .conflict(let detail), .invalidState(let detail): detail
        case .provisioningFailed(let failure, let id):
            "Tenant \(id): provisioning failed at step \(failure.step) (\(failure.message)). Finish it with POST /api/v1/tenants/\(id)/provision."
        case .deletionFailed(let failure, let id):
            "Tenant \(id): deletion failed at step \(failure.step) (\(failure.message)). Finish it with DELETE /api/v1/tenants/\(id)."
        }
    }

    /// `Retry-After` for a 503.
    var retryAfterSeconds: Int? { self.status == .serviceUnavailable ? Self.unavailableRetryAfterSeconds : nil }
}
