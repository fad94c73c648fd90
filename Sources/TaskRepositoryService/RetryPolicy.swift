import DatabaseLayer
import Foundation

/// Retry delays: exponential in the attempt number, capped, with jitter so that tasks failed together do not
/// all come back at the same instant.
struct RetryPolicy: Sendable {
    /// The delay after the first failed attempt (before jitter).
    var base: Duration
    /// The longest delay.
    var cap: Duration

    /// The delay before the next attempt after `attempt` (1-based) failed: half fixed, half random.
    func delay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let full = min(self.cap.seconds, self.base.seconds * pow(2, Double(exponent)))
        return .milliseconds(Int64((full / 2 + Double.random(in: 0...(full / 2))) * 1000))
    }
}
