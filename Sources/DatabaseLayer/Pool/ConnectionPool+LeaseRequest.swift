import NIOCore
import NIOPosix
import Synchronization

extension ConnectionPool {
    /// One `withConnection` call, type-erased so the state machine can queue calls with different result types.
    ///
    /// `@unchecked Sendable`: `continuation` is written once, before the request is published under the lock, and
    /// read only by whoever then takes the request out of the state machine, which resumes it exactly once.
    class LeaseRequest: Identifiable, @unchecked Sendable {
        /// When the caller asked; the acquisition timeout and `onWait` count from here.
        let start: ContinuousClock.Instant

        init(start: ContinuousClock.Instant) { self.start = start }

        /// Runs the body with `connection`, then `release`s it, then resumes the caller; returns what `release` returned.
        func run(_ connection: Connection, release: (Connection) -> Action) -> Action { fatalError("abstract") }

        /// Resumes the caller with `error`.
        func fail(_ error: any Error) { fatalError("abstract") }
    }

    final class TypedLeaseRequest<Value: Sendable>: LeaseRequest, @unchecked Sendable {
        let body: @Sendable (Connection) throws -> Value
        var continuation: UnsafeContinuation<Value, any Error>?

        init(start: ContinuousClock.Instant, body: @escaping @Sendable (Connection) throws -> Value) {
            self.body = body
            super.init(start: start)
        }

        override func run(_ connection: Connection, release: (Connection) -> Action) -> Action {
            let result = Swift.Result { try self.body(connection) }
            // Released before the caller resumes, so a caller that reads `statistics` next sees its connection back.
            let action = release(connection)
            self.continuation!.resume(with: result)
            return action
        }

        override func fail(_ error: any Error) {
            self.continuation!.resume(throwing: error)
        }
    }
}
