/// Why a user or authentication operation could not be done, in domain terms; `UserError+HTTPResponseError.swift`
/// maps it to HTTP, so the repository and the validation stay free of status codes.
enum UserError: Error, Sendable, Equatable {
    /// No such user in the caller's scope (another tenant's user is indistinguishable from none).
    case notFound
    /// The `{user_id}` path segment is not a UUID.
    case invalidUserID
    /// A body or query value is malformed or out of range; the text names the field, never its value.
    case invalidInput(String)
    /// The password breaks the length rules.
    case invalidPassword(String)
    /// The body is well-formed but asks for nothing (an empty update).
    case invalidBody(String)
    /// Another user already has this email (compared case-insensitively).
    case emailTaken
    /// Another user already has this username (compared case-insensitively).
    case usernameTaken
    /// The caller is authenticated but may not do this (a plain user acting on someone else, or on their own flags).
    case forbidden(String)
    /// The endpoint needs a service caller or an admin user.
    case adminRequired
    /// A plain user changing their password did not prove they know the current one.
    case currentPasswordInvalid
    /// Login failed; deliberately one case for an unknown user, a wrong password, an inactive user and a foreign tenant.
    case invalidCredentials
    /// Too many failed logins for this account or client; retry after the given seconds.
    case tooManyAttempts(retryAfterSeconds: Int)
    /// The refresh token is unknown, expired or revoked.
    case invalidRefreshToken
    /// The refresh token was already rotated: its whole family has been revoked.
    case refreshTokenReused
    /// The service has no `JWT_PRIVATE_KEY`, so it cannot issue tokens.
    case signingUnavailable
    /// The deny-list (Redis) could not record a logout, so the access token would stay valid.
    case denyListUnavailable
}
