import DatabaseLayer
import HTTPTypes

/// The one place the user domain meets HTTP: each case's status, stable code and client-safe detail.
extension UserError: ProblemError {
    /// 400/401/403/404/409/429/503 by case.
    var status: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .invalidUserID, .invalidInput, .invalidPassword, .invalidBody: .badRequest
        case .emailTaken, .usernameTaken: .conflict
        case .forbidden, .adminRequired, .currentPasswordInvalid: .forbidden
        case .invalidCredentials, .invalidRefreshToken, .refreshTokenReused: .unauthorized
        case .tooManyAttempts: .tooManyRequests
        case .signingUnavailable, .denyListUnavailable: .serviceUnavailable
        }
    }

    /// The codes `services/user-data-service/openapi.yaml` lists.
    var problemCode: String {
        switch self {
        case .notFound: "not_found"
        case .invalidUserID: "invalid_user_id"
        case .invalidInput: "invalid_input"
        case .invalidPassword: "invalid_password"
        case .invalidBody: "invalid_body"
        case .emailTaken: "email_taken"
        case .usernameTaken: "username_taken"
        case .forbidden: "forbidden"
        case .adminRequired: "admin_required"
        case .currentPasswordInvalid: "current_password_invalid"
        case .invalidCredentials: "invalid_credentials"
        case .tooManyAttempts: "too_many_attempts"
        case .invalidRefreshToken: "invalid_refresh_token"
        case .refreshTokenReused: "refresh_token_reused"
        case .signingUnavailable: "signing_unavailable"
        case .denyListUnavailable: "deny_list_unavailable"
        }
    }

    /// What the client reads; fixed text and field names only, never a stored value or an email.
    var problemDetail: String {
        switch self {
        case .notFound: "No such user for this caller."
        case .invalidUserID: "user_id must be a UUID."
        case .invalidInput(let detail), .invalidPassword(let detail), .invalidBody(let detail), .forbidden(let detail): detail
        case .emailTaken: "A user with this email already exists."
        case .usernameTaken: "A user with this username already exists."
        case .adminRequired: "This needs a service caller (X-API-Key) or an admin user."
        case .currentPasswordInvalid: "Changing your own password needs current_password, and it must be right."
        case .invalidCredentials: "The login or the password is wrong."
        case .tooManyAttempts: "Too many failed logins; try again later."
        case .invalidRefreshToken: "The refresh token is unknown, expired or revoked."
        case .refreshTokenReused: "The refresh token was already used; every token of this login is now revoked."
        case .signingUnavailable: "This service has no signing key (JWT_PRIVATE_KEY), so it cannot issue tokens."
        case .denyListUnavailable: "The logout could not be recorded (Redis unavailable); try again."
        }
    }

    /// `Retry-After` for the lockout and the deny-list outage.
    var retryAfterSeconds: Int? {
        switch self {
        case .tooManyAttempts(let seconds): max(1, seconds)
        case .denyListUnavailable, .signingUnavailable: 5
        default: nil
        }
    }
}
