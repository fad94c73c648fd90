internal import CLibPQ
import Foundation

/// One libpq `PGconn`. Not thread-safe: only the caller that leased it from ``PostgresPool`` touches it,
/// and every call blocks, so it only ever runs on the pool's thread pool.
public final class PostgresConnection: PooledConnection, @unchecked Sendable {
    /// Nil once closed: every C call goes through it, so a closed connection fails instead of touching freed memory.
    private var handle: OpaquePointer?

    /// Opens a connection (blocking).
    public init(configuration: PostgresConfiguration) throws(DatabaseError) {
        let parameters = configuration.connectionParameters
        // strdup'd copies live until PQconnectdbParams returns; Swift's temporary bridging would not outlive a nested call.
        let keywords = parameters.map { strdup($0.0) } + [nil]
        let values = parameters.map { strdup($0.1) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let connection = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keywordPointers.baseAddress, valuePointers.baseAddress, 0)
            }
        }
        guard let connection else {
            throw DatabaseError(.unavailable, "The database is unavailable.", debugDetails: "PQconnectdbParams returned NULL (out of memory)")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let text = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw DatabaseError(.unavailable, "The database is unavailable.", debugDetails: "connect failed: \(text)", sqlState: "08001")
        }
        self.handle = connection
    }

    /// Only a backstop: the pool calls ``close()`` on its blocking threads, and `deinit` may run on any thread.
    deinit { self.close() }

    /// Healthy, idle (no transaction left open) and its backend still there.
    public var isReusable: Bool {
        guard let handle = self.handle else { return false }
        return PQtransactionStatus(handle) == PQTRANS_IDLE && CLibPQ_idle_connection_is_dead(handle) == 0
    }

    /// Ends the session (`PQfinish`, which sends Terminate and so can block briefly); later calls do nothing.
    public func close() {
        guard let handle = self.handle else { return }
        self.handle = nil
        PQfinish(handle)
    }

    /// The server process id of this connection (`pg_backend_pid()`), 0 once closed.
    public var backendPID: Int32 { self.handle.map { PQbackendPID($0) } ?? 0 }

    /// Runs one statement with `$1…$n` parameters bound by the server; values are never spliced into SQL text.
    /// - Parameters:
    ///   - sql: a single statement.
    ///   - parameters: bound in order; nil binds SQL NULL.
    /// - Returns: the rows (empty for commands).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) throws(DatabaseError) -> PostgresRows {
        guard let handle = self.handle else {
            throw DatabaseError(.unavailable, "The database is unavailable.", debugDetails: "query on a closed connection", sqlState: "08003")
        }
        let texts = parameters.map { $0?.postgresText }
        let copies = texts.map { $0.flatMap { strdup($0) } }
        defer { copies.forEach { free($0) } }
        let result = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            PQexecParams(handle, sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
        }
        return try Self.rows(of: result, on: handle, context: "PQexecParams returned NULL")
    }

    /// Runs a script of several statements with the simple query protocol (no parameters), as migrations need.
    ///
    /// Only for SQL shipped with the service: the text is sent as is, so it must never contain request values.
    /// Inside ``transaction(_:)`` the statements join that transaction; outside it they form one implicit one.
    public func execute(script: String) throws(DatabaseError) {
        guard let handle = self.handle else {
            throw DatabaseError(.unavailable, "The database is unavailable.", debugDetails: "script on a closed connection", sqlState: "08003")
        }
        // PQexec returns the last statement's result; an earlier failure aborts the rest and is what it returns.
        _ = try Self.rows(of: PQexec(handle, script), on: handle, context: "PQexec returned NULL")
    }

    /// Whether a transaction is open (also when it failed and awaits ROLLBACK).
    public var isInTransaction: Bool {
        guard let handle = self.handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Turns a `PGresult` into rows or the classified error, and frees it.
    private static func rows(of result: OpaquePointer?, on handle: OpaquePointer, context: String) throws(DatabaseError) -> PostgresRows {
        guard let result else {
            throw Self.connectionError(handle, context: context)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK:
            return PostgresRows(result: result)
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0)
        default:
            guard let state = PQresultErrorField(result, CLibPQ_PG_DIAG_SQLSTATE) else {
                throw Self.connectionError(handle, context: String(cString: PQresultErrorMessage(result)))
            }
            let primary = PQresultErrorField(result, CLibPQ_PG_DIAG_MESSAGE_PRIMARY).map { String(cString: $0) } ?? ""
            throw DatabaseError.postgres(sqlState: String(cString: state), serverMessage: primary)
        }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        try self.query("BEGIN")
        do {
            let result = try body(self)
            try self.query("COMMIT")
            return result
        } catch {
            // A dead connection cannot roll back; the pool discards it because it is no longer idle.
            _ = try? self.query("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a transaction whose `app.current_tenant_id` is `tenant`, for row-level security.
    ///
    /// `set_config(..., true)` is transaction-local (`SET LOCAL`), so the tenant ends with the transaction and a
    /// pooled connection never carries one request's tenant into the next.
    public func transaction<Result>(tenant: TenantID, _ body: (PostgresConnection) throws -> Result) throws -> Result {
        try self.transaction { connection in
            try connection.query("SELECT set_config('app.current_tenant_id', $1, true)", [tenant.rawValue])
            return try body(connection)
        }
    }

    private static func connectionError(_ handle: OpaquePointer, context: String) -> DatabaseError {
        let text = String(cString: PQerrorMessage(handle))
        return DatabaseError(.unavailable, "The database is unavailable.", debugDetails: "\(context) \(text)", sqlState: "08006")
    }
}
