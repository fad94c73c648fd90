import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing and verification off the request's event loop: one hash at cost 12 is ~250 ms of CPU, which
/// would stall every connection on that loop. The work goes to NIO's shared blocking pool, one thread per core.
struct PasswordHasher: Sendable {
    /// `BCRYPT_COST`.
    let cost: Int
    /// A real hash of a random password at ``cost``: what a login of an unknown user is checked against, so it
    /// takes as long as a wrong password for a real one and the timing does not tell which accounts exist.
    let dummyHash: String

    /// Computes the dummy hash once (at startup, on the blocking pool).
    init(cost: Int) async throws {
        self.cost = cost
        let secret = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
        self.dummyHash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(secret, cost: UInt8(cost)) }
    }

    /// The bcrypt hash of `password` (already validated: 8…72 bytes, no NUL).
    func hash(_ password: String) async throws -> String {
        let cost = UInt8(self.cost)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`. With no hash (unknown user, external provider) or a password bcrypt would
    /// truncate, the dummy is verified instead and the answer is false: every failure costs the same.
    func verify(_ password: String, hash: String?) async throws -> Bool {
        let usable = hash != nil && password.utf8.count <= UserValidation.maximumPasswordBytes && !password.utf8.contains(0)
        let target = usable ? hash! : self.dummyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return usable && matches
    }
}
