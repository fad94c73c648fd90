/// An error from a data store or pool, classified so the HTTP layer can map it without reading server text.
///
/// `message` is safe to show a client; `debugDetails` (server text, SQLSTATE, MongoDB code) goes to logs only.
/// Log it with `String(reflecting: error)`, which reads ``debugDescription``; `"\(error)"` reads the client-safe
/// ``description``.
public struct DatabaseError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The classification that decides the HTTP status.
    public enum Code: String, Sendable, Hashable {
        case notFound = "not_found"
        case conflict
        case invalidInput = "invalid_input"
        case unavailable
        case timeout
        case internalError = "internal_error"
    }

    /// The classification.
    public var code: Code
    /// A message safe to return to a client.
    public var message: String
    /// Server text and codes; logged, never returned.
    public var debugDetails: String?
    /// The PostgreSQL SQLSTATE, when the error came from PostgreSQL.
    public var sqlState: String?
    /// The MongoDB server error code, when the error came from MongoDB.
    public var serverCode: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, debugDetails: String? = nil, sqlState: String? = nil, serverCode: Int? = nil) {
        self.code = code
        self.message = message
        self.debugDetails = debugDetails
        self.sqlState = sqlState
        self.serverCode = serverCode
    }

    /// Client-safe description: never includes server text (the same policy as postgres-nio's `PSQLError`).
    public var description: String { "DatabaseError(\(self.code.rawValue)): \(self.message)" }

    /// Everything for a log line: the classification, the message and the server details (postgres-nio's
    /// `PSQLError.debugDescription` draws the same line). Never return it to a client.
    public var debugDescription: String {
        var text = "DatabaseError(\(self.code.rawValue)): \(self.message)"
        if let sqlState = self.sqlState, !(self.debugDetails?.contains(sqlState) ?? false) { text += " [SQLSTATE \(sqlState)]" }
        if let serverCode = self.serverCode { text += " [server code \(serverCode)]" }
        if let debugDetails = self.debugDetails { text += " (\(debugDetails))" }
        return text
    }

    /// Maps a PostgreSQL SQLSTATE to a classification (after PostgREST's `mapSQLtoHTTP`).
    public static func code(forSQLState state: String) -> Code {
        switch state {
        case "23505", "23503", "40001", "40P01": return .conflict
        case "23502", "23514", "22P02", "22001", "22003", "22007", "22008", "22023", "42804": return .invalidInput
        case "57014": return .timeout
        case "57P01", "57P02", "57P03", "55P03": return .unavailable
        default:
            if state.hasPrefix("08") || state.hasPrefix("53") { return .unavailable }
            return .internalError
        }
    }

    /// Builds the error for a failed PostgreSQL statement.
    public static func postgres(sqlState: String, serverMessage: String) -> DatabaseError {
        let code = Self.code(forSQLState: sqlState)
        let message: String
        switch code {
        case .conflict: message = "The request conflicts with existing data."
        case .invalidInput: message = "The database rejected a value in the request."
        case .timeout: message = "The database operation timed out."
        case .unavailable: message = "The database is unavailable."
        case .notFound: message = "Not found."
        case .internalError: message = "The database operation failed."
        }
        return DatabaseError(code, message, debugDetails: "SQLSTATE \(sqlState): \(serverMessage)", sqlState: sqlState)
    }

    /// Maps a MongoDB server error code to a classification.
    public static func code(forMongoServerCode code: Int) -> Code {
        switch code {
        case 11000, 11001, 12582: return .conflict
        case 50, 262: return .timeout  // MaxTimeMSExpired, ExceededTimeLimit
        case 2, 9, 14, 121: return .invalidInput  // BadValue, FailedToParse, TypeMismatch, DocumentValidationFailure
        case 6, 7, 89, 91, 189, 11600, 11602, 13435, 13436: return .unavailable
        default: return .internalError
        }
    }
}
