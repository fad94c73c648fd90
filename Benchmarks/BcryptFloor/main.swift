// bcrypt-floor: how many bcrypt verifications per second this machine does with the library user-data-service
// uses (hummingbird-auth's HummingbirdBcrypt), on as many threads as NIO's blocking pool has (one per core). It is
// the ceiling of login throughput, which scripts/bench/user-data.sh compares user-data-service's logins with.
//
//   bcrypt-floor hash COST PASSWORD        prints one hash of PASSWORD at COST (the harness seeds users with it)
//   bcrypt-floor verify HASH PASSWORD SECONDS [THREADS]
//       verifies PASSWORD against HASH on THREADS threads (default: the core count) for SECONDS, then prints
//       BCRYPTFLOOR {"verifications": N, "seconds": S, "threads": T}
import Foundation
import HummingbirdBcrypt

/// Prints `message` on stderr and exits 2.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bcrypt-floor: \(message)\n".utf8))
    exit(2)
}

/// The count of verifications done, shared by the worker threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    /// Adds `amount`.
    func add(_ amount: Int) { self.lock.withLock { self.value += amount } }

    /// The count so far.
    var total: Int { self.lock.withLock { self.value } }
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "hash":
    guard arguments.count == 4, let cost = UInt8(arguments[2]), (4...31).contains(cost) else { fail("usage: hash COST PASSWORD") }
    print(Bcrypt.hash(arguments[3], cost: cost))
case "verify":
    guard arguments.count >= 5, let seconds = Double(arguments[4]), seconds > 0 else {
        fail("usage: verify HASH PASSWORD SECONDS [THREADS]")
    }
    let hash = arguments[2]
    let password = arguments[3]
    let threads = arguments.count > 5 ? Int(arguments[5]) ?? 0 : ProcessInfo.processInfo.activeProcessorCount
    guard threads > 0 else { fail("THREADS must be a positive integer") }
    guard Bcrypt.verify(password, hash: hash) else { fail("the password does not match the hash") }
    let counter = Counter()
    let group = DispatchGroup()
    let start = Date()
    let deadline = start.addingTimeInterval(seconds)
    for _ in 0..<threads {
        group.enter()
        // Threads, not tasks: each verification blocks its thread for the whole hash, as on NIO's blocking pool.
        Thread {
            while Date() < deadline {
                _ = Bcrypt.verify(password, hash: hash)
                counter.add(1)
            }
            group.leave()
        }.start()
    }
    group.wait()
    let elapsed = Date().timeIntervalSince(start)
    print("BCRYPTFLOOR {\"verifications\": \(counter.total), \"seconds\": \(elapsed), \"threads\": \(threads)}")
default:
    fail("usage: bcrypt-floor hash COST PASSWORD | verify HASH PASSWORD SECONDS [THREADS]")
}
