internal import CHiredis
import Foundation

/// A Redis reply, copied out of hiredis's `redisReply` tree.
public enum RedisReply: Sendable, Equatable {
    /// Bulk or simple string.
    case string(String)
    /// Integer reply.
    case integer(Int64)
    /// Nil bulk reply (missing key).
    case null
    /// Array reply.
    case array([RedisReply])
    /// Status reply (`OK`, `PONG`).
    case status(String)

    /// The string for string and status replies.
    public var string: String? {
        switch self {
        case .string(let text), .status(let text): text
        default: nil
        }
    }
}

/// One hiredis `redisContext`. Blocking; used only by the caller that leased it from ``RedisPool``.
public final class RedisConnection: PooledConnection, @unchecked Sendable {
    /// Nil once closed: every C call goes through it, so a closed connection fails instead of touching freed memory.
    private var context: UnsafeMutablePointer<redisContext>?
    private var broken = false

    /// Connects, authenticates (`AUTH`, from the URL's password) and selects the database.
    public init(configuration: RedisConfiguration) throws(DatabaseError) {
        let milliseconds = Int(configuration.timeout.components.seconds * 1000 + configuration.timeout.components.attoseconds / 1_000_000_000_000_000)
        let timeout = CHiredis_timeval_ms(milliseconds)
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeout) else {
            throw DatabaseError(.unavailable, "The cache is unavailable.", debugDetails: "redisConnectWithTimeout returned NULL")
        }
        if context.pointee.err != 0 {
            let text = Self.errorText(context)
            redisFree(context)
            throw DatabaseError(.unavailable, "The cache is unavailable.", debugDetails: "connect: \(text)")
        }
        _ = redisSetTimeout(context, timeout)
        self.context = context
        if let password = configuration.password, !password.isEmpty {
            let arguments = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            do {
                _ = try self.command(arguments)
            } catch {
                // The server's text may echo nothing secret, but keep the password out of every message regardless.
                throw DatabaseError(.unavailable, "The cache is unavailable.", debugDetails: "AUTH failed")
            }
        }
        if configuration.database != 0 {
            _ = try self.command(["SELECT", String(configuration.database)])
        }
    }

    /// Only a backstop: the pool calls ``close()`` on its blocking threads, and `deinit` may run on any thread.
    deinit { self.close() }

    /// Usable and its socket quiet.
    public var isReusable: Bool {
        guard let context = self.context, !self.broken else { return false }
        return CHiredis_idle_connection_is_dead(context) == 0
    }

    /// Closes the socket and frees the context (`redisFree`); later calls do nothing.
    public func close() {
        guard let context = self.context else { return }
        self.context = nil
        redisFree(context)
    }

    /// Sends one command as an argument vector (no string formatting, so values cannot inject commands).
    @discardableResult
    public func command(_ arguments: [String]) throws(DatabaseError) -> RedisReply {
        guard let context = self.context else {
            throw DatabaseError(.unavailable, "The cache is unavailable.", debugDetails: "\(arguments.first ?? ""): connection closed")
        }
        let copies = arguments.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let lengths = arguments.map { $0.utf8.count }
        let raw = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { argv in
            lengths.withUnsafeBufferPointer { argvlen in
                redisCommandArgv(context, Int32(arguments.count), UnsafeMutablePointer(mutating: argv.baseAddress), argvlen.baseAddress)
            }
        }
        guard let raw else {
            self.broken = true
            throw DatabaseError(
                .unavailable, "The cache is unavailable.", debugDetails: "\(arguments.first ?? ""): \(Self.errorText(context))")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        if reply.pointee.type == REDIS_REPLY_ERROR {
            let text = String(cString: reply.pointee.str)
            throw DatabaseError(.internalError, "The cache rejected a command.", debugDetails: "\(arguments.first ?? ""): \(text)")
        }
        return Self.convert(reply)
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        switch reply.pointee.type {
        case REDIS_REPLY_STRING:
            let buffer = UnsafeRawBufferPointer(start: reply.pointee.str, count: Int(reply.pointee.len))
            return .string(String(decoding: buffer, as: UTF8.self))
        case REDIS_REPLY_STATUS: return .status(String(cString: reply.pointee.str))
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.pointee.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<Int(reply.pointee.elements)).map { convert(reply.pointee.element[$0]!) })
        default: return .null
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}
