import Crypto
import DatabaseLayer
import Foundation
import Logging

/// Counts failed logins per account and per client address in Redis, and refuses further attempts with 429 once
/// either count reaches its limit within the window (OWASP Authentication Cheat Sheet, "Account lockout").
///
/// A window starts at its first failure (`SET NX EX`, then `INCR`, which keeps the expiry, so a crash between
/// the two cannot leave a counter that never expires). Accounts are keyed by user id, unknown names by a SHA-256, so
/// Redis holds no email addresses. Redis trouble fails open, like the rate limit: bcrypt's cost still bounds guessing.
struct LoginThrottle: Sendable {
    let redis: RedisPool?
    let limits: LoginLimits
    let prefix: String
    let logger: Logger

    /// A throttle under `<service>:login-failures:`; without Redis it never refuses.
    init(redis: RedisPool?, limits: LoginLimits, serviceName: String, logger: Logger) {
        self.redis = redis
        self.limits = limits
        self.prefix = "\(serviceName):login-failures:"
        self.logger = logger
    }

    /// Throws ``UserError/tooManyAttempts(retryAfterSeconds:)`` when the account or the client is locked out.
    func check(account: Account, client: String) async throws(UserError) {
        guard let redis else { return }
        for (key, limit) in [(self.accountKey(account), self.limits.perAccount), (self.clientKey(client), self.limits.perClient)] {
            do {
                guard let count = try await redis.get(key).flatMap({ Int($0) }), count >= limit else { continue }
                let ttl = try await redis.timeToLive(key)
                throw LockedOut(seconds: ttl > 0 ? ttl : self.limits.windowSeconds)
            } catch let locked as LockedOut {
                throw .tooManyAttempts(retryAfterSeconds: locked.seconds)
            } catch {
                self.logger.warning("login throttle unavailable; not enforcing", metadata: ["error": .string(String(reflecting: error))])
                return
            }
        }
    }

    /// Counts one failure against the account and the client.
    func recordFailure(account: Account, client: String) async {
        guard let redis else { return }
        for key in [self.accountKey(account), self.clientKey(client)] {
            do {
                _ = try await redis.command(["SET", key, "0", "EX", String(self.limits.windowSeconds), "NX"])
                _ = try await redis.increment(key)
            } catch {
                self.logger.warning("login failure not counted", metadata: ["error": .string(String(reflecting: error))])
            }
        }
    }

    /// Clears the account's failures after a successful login (the client's stay: they may be guessing others).
    func recordSuccess(account: Account) async {
        guard let redis else { return }
        _ = try? await redis.delete(self.accountKey(account))
    }

    private func accountKey(_ account: Account) -> String {
        switch account {
        case .user(let id):
            return self.prefix + "account:" + id.lowercasedText
        case .unknown(let identifier):
            let digest = SHA256.hash(data: Data(identifier.normalized.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
            return self.prefix + "name:" + digest
        }
    }

    /// What failures are counted against: an existing account by id (so its email and its username share one
    /// counter), or a name no account has (hashed, so Redis holds no email addresses).
    enum Account: Sendable {
        case user(UUID)
        case unknown(LoginIdentifier)
    }

    private func clientKey(_ client: String) -> String { self.prefix + "client:" + client }

    private struct LockedOut: Error {
        var seconds: Int
    }
}
