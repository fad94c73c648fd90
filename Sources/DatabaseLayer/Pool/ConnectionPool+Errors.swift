import NIOCore
import NIOPosix
import Synchronization

/// The errors a lease can end with.
extension ConnectionPool {
    func error(for failure: StateMachine.Failure) -> any Error {
        switch failure {
        case .timedOut: self.timeoutError
        case .cancelled: CancellationError()
        case .shutDown: self.shutDownError
        }
    }

    var timeoutError: DatabaseError {
        DatabaseError(
            .unavailable, "No \(self.backend) connection became available in time.",
            debugDetails: "pool acquisition timeout after \(self.configuration.acquisitionTimeout)"
        )
    }

    var shutDownError: DatabaseError {
        DatabaseError(.unavailable, "The \(self.backend) pool is shut down.")
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? Int64.max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
